/** RabbitMQ → Valkey: the only place that picks this pipeline's adapters. */
import { createRabbitPublisher, createRabbitSubscriber } from '@tandem/brokers';
import { loadServiceConfig } from '@tandem/config';
import { runConsumer } from '@tandem/consumer';
import { openValkeyStore } from '@tandem/counting';
import { createLogger } from '@tandem/service';
import { configSchema, deadLetterQueue } from './config.ts';

const config = loadServiceConfig('rabbit-consumer', configSchema);
const logger = createLogger('rabbit-consumer', config.LOG_LEVEL);

// ioredis/iovalkey put the failed command in their errors, `AUTH <password>` included, and an uncaught error is
// printed whole: say why the store cannot be opened with the server's reason only, then stop.
const store = await openValkeyStore(config.VALKEY_URL, { dedupTtlSeconds: config.DEDUP_TTL_SECONDS }).catch(
  (error: unknown) => {
    logger.fatal(
      { reason: error instanceof Error ? error.message : String(error) },
      'cannot open the Valkey store',
    );
    process.exit(1);
  },
);

await runConsumer({
  pipeline: 'rabbitmq-valkey',
  logger,
  deadLetters: await createRabbitPublisher({
    url: config.RABBITMQ_URL,
    queue: deadLetterQueue(config),
    maxReconnectDelayMs: 2000,
    logger,
  }),
  metricsPort: config.METRICS_PORT,
  store,
  subscriber: await createRabbitSubscriber({
    url: config.RABBITMQ_URL,
    queue: config.RABBITMQ_QUEUE,
    maxBatch: config.BATCH_MAX,
    // Back within 2 s of the broker: a longer wait only leaves the queue growing.
    maxReconnectDelayMs: 2000,
    logger,
    lingerMs: config.BATCH_LINGER_MS,
  }),
});
