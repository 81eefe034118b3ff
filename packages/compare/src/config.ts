import { env, kafkaFields, kafkaSaslComplete } from '@tandem/config';
import { z } from 'zod';

/**
 * Where both pipelines end: the brokers (for how far each consumer is behind) and the stores. The same variables
 * as the services; read by `npm run compare` and by the load-test tools.
 */
const pipelinesFields = {
  /** KAFKA_BROKERS, and the SASL/SCRAM login (KAFKA_SASL_USERNAME, _PASSWORD, _MECHANISM) where it is required. */
  ...kafkaFields,
  KAFKA_TOPIC: env.string('message'),
  KAFKA_GROUP: env.string('kafka-consumer'),
  RABBITMQ_URL: env.url(['amqp:', 'amqps:']),
  RABBITMQ_QUEUE: env.string('message'),
  REDIS_URL: env.url(['redis:', 'rediss:']),
  VALKEY_URL: env.url(['redis:', 'rediss:']),
};

export const pipelinesSchema = z.object(pipelinesFields).superRefine(kafkaSaslComplete);

export type PipelinesConfig = z.output<typeof pipelinesSchema>;

const httpUrl = (fallback: string) => env.url(['http:', 'https:']).default(fallback);
const optionalName = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.string().trim().min(1).optional(),
);

/**
 * Everything the snapshot reads (`npm run compare` and the live page): the pipelines' ends as above, the dead-letter
 * destinations (the consumers' own variables and defaults), and the services' metrics ports (their default ports;
 * `npm start` sets them to where it started the services).
 */
export const snapshotSchema = z
  .object({
    ...pipelinesFields,
    KAFKA_DLQ_TOPIC: optionalName,
    RABBITMQ_DLQ_QUEUE: optionalName,
    EDGE_URL: httpUrl('http://127.0.0.1:8080'),
    INGEST_METRICS_URL: httpUrl('http://127.0.0.1:9464'),
    KAFKA_CONSUMER_METRICS_URL: httpUrl('http://127.0.0.1:9465'),
    RABBIT_CONSUMER_METRICS_URL: httpUrl('http://127.0.0.1:9466'),
  })
  .superRefine(kafkaSaslComplete);

export type SnapshotConfig = z.output<typeof snapshotSchema>;
