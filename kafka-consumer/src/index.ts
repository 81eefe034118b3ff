/** Kafka → Redis: the only place that picks this pipeline's adapters. */

import { createKafkaSubscriber } from '@tandem/brokers';
import { env, loadServiceConfig } from '@tandem/config';
import { runConsumer } from '@tandem/consumer';
import { DEFAULT_DEDUP_TTL_SECONDS, openRedisStore } from '@tandem/counting';
import { createLogger } from '@tandem/service';
import { z } from 'zod';

const schema = z.object({
  KAFKA_BROKERS: env.hostPorts(),
  KAFKA_TOPIC: env.string('message'),
  KAFKA_GROUP: env.string('kafka-consumer'),
  REDIS_URL: env.url(['redis:', 'rediss:']),
  DEDUP_TTL_SECONDS: env.positiveInt(DEFAULT_DEDUP_TTL_SECONDS),
  /** Most messages applied to the store in one round trip. */
  BATCH_MAX: env.positiveInt(500),
  METRICS_PORT: env.port(9465),
  LOG_LEVEL: env.logLevel(),
});

const config = loadServiceConfig('kafka-consumer', schema);

await runConsumer({
  pipeline: 'kafka-redis',
  logger: createLogger('kafka-consumer', config.LOG_LEVEL),
  metricsPort: config.METRICS_PORT,
  store: await openRedisStore(config.REDIS_URL, { dedupTtlSeconds: config.DEDUP_TTL_SECONDS }),
  subscriber: await createKafkaSubscriber({
    brokers: config.KAFKA_BROKERS,
    topic: config.KAFKA_TOPIC,
    groupId: config.KAFKA_GROUP,
    clientId: 'kafka-consumer',
    maxBatch: config.BATCH_MAX,
    // A consumer killed without leaving the group holds its partitions until this runs out: keep it short.
    sessionTimeoutMs: 10_000,
  }),
});
