import type { Server as HttpServer } from 'node:http';
import { serve } from '@hono/node-server';
import { createRabbitPublisher, kafkaAdapters } from '@tandem/brokers';
import { kafkaConnection, loadServiceConfig, redact } from '@tandem/config';
import { closeHttpServer, createLogger, onShutdown, startMetricsServer } from '@tandem/service';
import { bind, createIngest, createIngestHttpApp, createIngestServer, shutdown } from './app.ts';
import { configSchema } from './config.ts';

const config = loadServiceConfig('grpc-ingest', configSchema);
const logger = createLogger('grpc-ingest', config.LOG_LEVEL);
/** The brokers and, where the listener requires it, the SASL/SCRAM login. */
const kafkaClient = kafkaConnection(config);
/** kafkajs or @platformatic/kafka (KAFKA_CLIENT): the same contract and guarantees. */
const kafkaAdapter = kafkaAdapters[config.KAFKA_CLIENT];

await kafkaAdapter.ensureTopic({
  ...kafkaClient,
  topic: config.KAFKA_TOPIC,
  partitions: config.KAFKA_PARTITIONS,
  logger,
});
const batching = { lingerMs: config.PUBLISH_LINGER_MS, maxBatch: config.PUBLISH_MAX_BATCH };
const kafka = await kafkaAdapter.createPublisher({
  ...kafkaClient,
  topic: config.KAFKA_TOPIC,
  clientId: 'grpc-ingest',
  ...batching,
  // A send to a broker that is down fails after ~1.5 s with kafkajs (100, 200, 400, 800 ms; ~0.4 s with
  // @platformatic/kafka, which does not double the pause), well inside the edge's 5 s
  // deadline: the publisher then answers "unavailable" at once until Kafka answers again, so the edge's 503s are quick.
  retries: 4,
  retryDelayMs: 100,
  logger,
});
const rabbitmq = await createRabbitPublisher({
  url: config.RABBITMQ_URL,
  queue: config.RABBITMQ_QUEUE,
  // Back within 2 s of the broker: a publisher that waits longer to reconnect only prolongs the 503s.
  maxReconnectDelayMs: 2000,
  logger,
});

const ingest = createIngest({ publishers: { kafka, rabbitmq }, maxInFlight: config.MAX_IN_FLIGHT });
const server = createIngestServer(ingest);
const port = await bind(server, `0.0.0.0:${config.PORT}`);
const httpServer =
  config.HTTP_PORT === undefined
    ? undefined
    : await new Promise<HttpServer>((resolve) => {
        const listening = serve(
          { fetch: createIngestHttpApp(ingest).fetch, port: config.HTTP_PORT, hostname: '0.0.0.0' },
          () => resolve(listening as HttpServer),
        );
      });
const metrics = await startMetricsServer(config.METRICS_PORT);
logger.info(
  {
    port,
    httpPort: config.HTTP_PORT,
    metricsPort: config.METRICS_PORT,
    kafka: config.KAFKA_BROKERS,
    kafkaClient: config.KAFKA_CLIENT,
    // Who it logs in as, never the password.
    kafkaUser: kafkaClient.sasl?.username ?? '(no SASL)',
    rabbitmq: redact(config.RABBITMQ_URL),
  },
  'grpc-ingest listening',
);

onShutdown(logger, async () => {
  await Promise.all([shutdown(server, 15_000), httpServer && closeHttpServer(httpServer)]);
  await Promise.all([kafka.close(), rabbitmq.close()]);
  metrics.close();
});
