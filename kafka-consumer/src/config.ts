import { kafkaSubscriberDefaults } from '@tandem/brokers';
import { env, kafkaFields, kafkaSaslComplete } from '@tandem/config';
import { DEFAULT_DEDUP_TTL_SECONDS } from '@tandem/counting';
import { z } from 'zod';

export const configSchema = z
  .object({
    /** KAFKA_BROKERS, and KAFKA_SASL_USERNAME / _PASSWORD / _MECHANISM for a listener that requires SASL/SCRAM. */
    ...kafkaFields,
    KAFKA_TOPIC: env.string('message'),
    KAFKA_GROUP: env.string('kafka-consumer'),
    /** Where records that are not a valid message go (the dead-letter topic). Default `<KAFKA_TOPIC>.dlq`. */
    KAFKA_DLQ_TOPIC: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).optional()),
    REDIS_URL: env.url(['redis:', 'rediss:']),
    DEDUP_TTL_SECONDS: env.positiveInt(DEFAULT_DEDUP_TTL_SECONDS),
    /** Most messages applied to the store in one round trip. Defaults to the subscriber's own default. */
    BATCH_MAX: env.positiveInt(kafkaSubscriberDefaults.maxBatch),
    /**
     * A record waits up to KAFKA_FETCH_MAX_WAIT_MS to share a fetch with others: fewer, larger fetches and store
     * round trips, for at most that much added latency (kafkajs waits on the broker for KAFKA_FETCH_MIN_BYTES;
     * @platformatic/kafka pauses between fetches and does not use it). Default to the subscriber's own defaults.
     */
    KAFKA_FETCH_MAX_WAIT_MS: env.positiveInt(kafkaSubscriberDefaults.maxWaitMs),
    KAFKA_FETCH_MIN_BYTES: env.positiveInt(kafkaSubscriberDefaults.fetchMinBytes),
    METRICS_PORT: env.port(9465),
    LOG_LEVEL: env.logLevel(),
  })
  .superRefine(kafkaSaslComplete);

export const deadLetterTopic = (config: { KAFKA_TOPIC: string; KAFKA_DLQ_TOPIC?: string | undefined }) =>
  config.KAFKA_DLQ_TOPIC ?? `${config.KAFKA_TOPIC}.dlq`;
