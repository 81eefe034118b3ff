/** Kafka → Redis: the only place that picks this pipeline's adapters. */
import { createKafkaSubscriber } from '@tandem/brokers';
import { loadServiceConfig } from '@tandem/config';
import { runConsumer } from '@tandem/consumer';
import { openRedisStore } from '@tandem/counting';
import { createLogger } from '@tandem/service';
import { configSchema } from './config.ts';

const config = loadServiceConfig('kafka-consumer', configSchema);
const logger = createLogger('kafka-consumer', config.LOG_LEVEL);

await runConsumer({
  pipeline: 'kafka-redis',
  logger,
  metricsPort: config.METRICS_PORT,
  store: await openRedisStore(config.REDIS_URL, { dedupTtlSeconds: config.DEDUP_TTL_SECONDS }),
  subscriber: await createKafkaSubscriber({
    brokers: config.KAFKA_BROKERS,
    topic: config.KAFKA_TOPIC,
    groupId: config.KAFKA_GROUP,
    clientId: 'kafka-consumer',
    maxBatch: config.BATCH_MAX,
    logger,
    // A consumer killed without leaving the group holds its partitions until this runs out: keep it short.
    sessionTimeoutMs: 10_000,
  }),
});
