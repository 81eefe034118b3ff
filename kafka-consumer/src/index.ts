/** Kafka → Redis: the only place that picks this pipeline's adapters. */
import { kafkaAdapters } from '@tandem/brokers';
import { kafkaConnection, loadServiceConfig } from '@tandem/config';
import { runConsumer } from '@tandem/consumer';
import { openRedisStore } from '@tandem/counting';
import { createLogger } from '@tandem/service';
import { configSchema, deadLetterTopic } from './config.ts';

const config = loadServiceConfig('kafka-consumer', configSchema);
const logger = createLogger('kafka-consumer', config.LOG_LEVEL);
/** The brokers and, where the listener requires it, the SASL/SCRAM login. */
const kafkaClient = kafkaConnection(config);
/** kafkajs or @platformatic/kafka (KAFKA_CLIENT): the same contract and guarantees. */
const kafkaAdapter = kafkaAdapters[config.KAFKA_CLIENT];

const dlqTopic = deadLetterTopic(config);
await kafkaAdapter.ensureTopic({ ...kafkaClient, topic: dlqTopic, partitions: 1, logger });

// ioredis/iovalkey put the failed command in their errors, `AUTH <password>` included, and an uncaught error is
// printed whole: say why the store cannot be opened with the server's reason only, then stop.
const store = await openRedisStore(config.REDIS_URL, { dedupTtlSeconds: config.DEDUP_TTL_SECONDS }).catch(
  (error: unknown) => {
    logger.fatal(
      { reason: error instanceof Error ? error.message : String(error) },
      'cannot open the Redis store',
    );
    process.exit(1);
  },
);

await runConsumer({
  pipeline: 'kafka-redis',
  logger,
  deadLetters: await kafkaAdapter.createPublisher({
    ...kafkaClient,
    topic: dlqTopic,
    clientId: 'kafka-consumer-dlq',
    logger,
  }),
  metricsPort: config.METRICS_PORT,
  store,
  subscriber: await kafkaAdapter.createSubscriber({
    ...kafkaClient,
    topic: config.KAFKA_TOPIC,
    groupId: config.KAFKA_GROUP,
    clientId: 'kafka-consumer',
    maxBatch: config.BATCH_MAX,
    maxWaitMs: config.KAFKA_FETCH_MAX_WAIT_MS,
    fetchMinBytes: config.KAFKA_FETCH_MIN_BYTES,
    logger,
    // A consumer killed without leaving the group holds its partitions until this runs out: keep it short.
    sessionTimeoutMs: 10_000,
  }),
});
