/** RabbitMQ → Valkey: the only place that picks this pipeline's adapters. */
import { createRabbitSubscriber } from '@tandem/brokers';
import { loadServiceConfig } from '@tandem/config';
import { runConsumer } from '@tandem/consumer';
import { openValkeyStore } from '@tandem/counting';
import { createLogger } from '@tandem/service';
import { configSchema } from './config.ts';

const config = loadServiceConfig('rabbit-consumer', configSchema);
const logger = createLogger('rabbit-consumer', config.LOG_LEVEL);

await runConsumer({
  pipeline: 'rabbitmq-valkey',
  logger,
  metricsPort: config.METRICS_PORT,
  store: await openValkeyStore(config.VALKEY_URL, { dedupTtlSeconds: config.DEDUP_TTL_SECONDS }),
  subscriber: await createRabbitSubscriber({
    url: config.RABBITMQ_URL,
    queue: config.RABBITMQ_QUEUE,
    maxBatch: config.BATCH_MAX,
    logger,
    lingerMs: config.BATCH_LINGER_MS,
  }),
});
