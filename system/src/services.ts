/**
 * The four services, described once: what the launcher starts (in this order), what the Kubernetes manifests are
 * checked against (the port names and variables), and what `npm start` prints.
 */

export type ServiceName = 'grpc-ingest' | 'kafka-consumer' | 'rabbit-consumer' | 'edge-api';

/** The variables a service reads its listening ports from. */
export type PortVariable = 'PORT' | 'METRICS_PORT';

export interface ServicePort {
  /** The container port's name in the manifests. */
  name: 'http' | 'grpc' | 'metrics';
  variable: PortVariable;
  default: number;
}

export interface ServiceSpec {
  /** Also its folder, its process title and its Deployment's name. */
  name: ServiceName;
  /** What it does, in a few words (npm start's list). */
  job: string;
  ports: readonly ServicePort[];
  /** The port that serves GET /health, /ready and /metrics. */
  adminPort: ServicePort['name'];
  /**
   * 200 once the service can do its work: the edge's /ready needs the ingest, a consumer's needs its subscription
   * running and its store taking writes (packages/consumer/src/ready.ts); the ingest is ready once up.
   */
  readyPath: '/ready' | '/health';
  /** The connection settings and names it needs besides its ports. */
  needs: readonly string[];
  /** ANSI colour of its label in npm start's output. */
  colour: number;
}

/** Where Kafka is and how to log in to it (SASL/SCRAM). */
const kafkaLogin = ['KAFKA_BROKERS', 'KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];

/** In start order: the ingest creates the topic and the queue the consumers read; the edge needs the ingest. */
export const services: readonly ServiceSpec[] = [
  {
    name: 'grpc-ingest',
    job: 'gRPC in, publishes to Kafka and RabbitMQ',
    ports: [
      { name: 'grpc', variable: 'PORT', default: 50051 },
      { name: 'metrics', variable: 'METRICS_PORT', default: 9464 },
    ],
    adminPort: 'metrics',
    readyPath: '/health',
    needs: [...kafkaLogin, 'KAFKA_TOPIC', 'RABBITMQ_URL', 'RABBITMQ_QUEUE'],
    colour: 35,
  },
  {
    name: 'kafka-consumer',
    job: 'Kafka → Redis',
    ports: [{ name: 'metrics', variable: 'METRICS_PORT', default: 9465 }],
    adminPort: 'metrics',
    readyPath: '/ready',
    needs: [...kafkaLogin, 'KAFKA_TOPIC', 'KAFKA_GROUP', 'REDIS_URL'],
    colour: 33,
  },
  {
    name: 'rabbit-consumer',
    job: 'RabbitMQ → Valkey',
    ports: [{ name: 'metrics', variable: 'METRICS_PORT', default: 9466 }],
    adminPort: 'metrics',
    readyPath: '/ready',
    needs: ['RABBITMQ_URL', 'RABBITMQ_QUEUE', 'VALKEY_URL'],
    colour: 32,
  },
  {
    name: 'edge-api',
    job: 'HTTP in (POST /input, /input/batch), gRPC to the ingest',
    ports: [{ name: 'http', variable: 'PORT', default: 8080 }],
    adminPort: 'http',
    readyPath: '/ready',
    needs: ['INGEST_ADDR'],
    colour: 34,
  },
];

export const serviceNames: readonly ServiceName[] = services.map((service) => service.name);

export function service(name: ServiceName): ServiceSpec {
  const spec = services.find((candidate) => candidate.name === name);
  if (!spec) throw new Error(`no service ${name}; the services are ${serviceNames.join(', ')}`);
  return spec;
}
