/** RabbitMQ → Valkey: the only place that picks this pipeline's adapters. */

import { createRabbitSubscriber } from '@tandem/brokers';
import { env, loadServiceConfig } from '@tandem/config';
import { runConsumer } from '@tandem/consumer';
import { DEFAULT_DEDUP_TTL_SECONDS, openValkeyStore } from '@tandem/counting';
import { createLogger } from '@tandem/service';
import { z } from 'zod';

const schema = z.object({
  RABBITMQ_URL: env.url(['amqp:', 'amqps:']),
  RABBITMQ_QUEUE: env.string('message'),
  VALKEY_URL: env.url(['redis:', 'rediss:']),
  DEDUP_TTL_SECONDS: env.positiveInt(DEFAULT_DEDUP_TTL_SECONDS),
  /** Most messages applied to the store in one round trip. */
  BATCH_MAX: env.positiveInt(500),
  /** How long to wait to fill a batch before applying what there is (ms). */
  BATCH_LINGER_MS: env.positiveInt(5),
  METRICS_PORT: env.port(9466),
  LOG_LEVEL: env.logLevel(),
});

const config = loadServiceConfig('rabbit-consumer', schema);

await runConsumer({
  pipeline: 'rabbitmq-valkey',
  logger: createLogger('rabbit-consumer', config.LOG_LEVEL),
  metricsPort: config.METRICS_PORT,
  store: await openValkeyStore(config.VALKEY_URL, { dedupTtlSeconds: config.DEDUP_TTL_SECONDS }),
  subscriber: await createRabbitSubscriber({
    url: config.RABBITMQ_URL,
    queue: config.RABBITMQ_QUEUE,
    maxBatch: config.BATCH_MAX,
    lingerMs: config.BATCH_LINGER_MS,
  }),
});
