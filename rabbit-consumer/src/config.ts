import { rabbitSubscriberDefaults } from '@tandem/brokers';
import { env } from '@tandem/config';
import { DEFAULT_DEDUP_TTL_SECONDS } from '@tandem/counting';
import { z } from 'zod';

export const configSchema = z.object({
  RABBITMQ_URL: env.url(['amqp:', 'amqps:']),
  RABBITMQ_QUEUE: env.string('message'),
  /** Where messages that are not a valid message go (the dead-letter queue). Default `<RABBITMQ_QUEUE>.dlq`. */
  RABBITMQ_DLQ_QUEUE: z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().min(1).optional()),
  VALKEY_URL: env.url(['redis:', 'rediss:']),
  DEDUP_TTL_SECONDS: env.positiveInt(DEFAULT_DEDUP_TTL_SECONDS),
  /** Most messages applied to the store in one round trip. Defaults to the subscriber's own default, as the next. */
  BATCH_MAX: env.positiveInt(rabbitSubscriberDefaults.maxBatch),
  /** How long to wait to fill a batch before applying what there is (ms). */
  BATCH_LINGER_MS: env.positiveInt(rabbitSubscriberDefaults.lingerMs),
  METRICS_PORT: env.port(9466),
  LOG_LEVEL: env.logLevel(),
});

export const deadLetterQueue = (config: {
  RABBITMQ_QUEUE: string;
  RABBITMQ_DLQ_QUEUE?: string | undefined;
}) => config.RABBITMQ_DLQ_QUEUE ?? `${config.RABBITMQ_QUEUE}.dlq`;
