import { kafkaPublisherDefaults } from '@tandem/brokers';
import { env, kafkaFields, kafkaSaslComplete } from '@tandem/config';
import { z } from 'zod';

export const configSchema = z
  .object({
    PORT: env.port(50051),
    METRICS_PORT: env.port(9464),
    /**
     * Also serve the WeatherService as plain HTTP/JSON on this port (for the bench's gRPC-vs-HTTP comparison; the
     * edge uses it when INGEST_ADDR is `http://host:port`). Unset: gRPC only.
     */
    HTTP_PORT: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.coerce.number().int().min(1).max(65535).optional(),
    ),
    /** KAFKA_BROKERS, and KAFKA_SASL_USERNAME / _PASSWORD / _MECHANISM for a listener that requires SASL/SCRAM. */
    ...kafkaFields,
    KAFKA_TOPIC: env.string('message'),
    /** Partitions of the topic when the ingest creates it (an existing topic is left as it is). */
    KAFKA_PARTITIONS: env.positiveInt(6),
    RABBITMQ_URL: env.url(['amqp:', 'amqps:']),
    RABBITMQ_QUEUE: env.string('message'),
    /**
     * How long the Kafka publisher waits to gather concurrent messages into one broker request (ms); 0 = next tick.
     * This and PUBLISH_MAX_BATCH default to the publisher's own defaults, so that the two cannot differ.
     */
    PUBLISH_LINGER_MS: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.coerce.number().int().min(0).default(kafkaPublisherDefaults.lingerMs),
    ),
    PUBLISH_MAX_BATCH: env.positiveInt(kafkaPublisherDefaults.maxBatch),
    /** Messages being published at once before new calls get RESOURCE_EXHAUSTED (the edge answers 429). */
    MAX_IN_FLIGHT: env.positiveInt(20_000),
    LOG_LEVEL: env.logLevel(),
  })
  .superRefine(kafkaSaslComplete);
