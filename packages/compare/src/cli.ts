/**
 * `npm run compare [-- --json] [-- --check]`: counts per country, per weather and in total from Redis and Valkey,
 * their differences, and how far each consumer is behind (Kafka lag of the consumer group, RabbitMQ queue depth).
 * `--check` exits 1 when the stores differ.
 */
import { parseArgs } from 'node:util';
import { kafkaGroupBacklog, rabbitQueueBacklog } from '@tandem/brokers';
import { loadServiceConfig } from '@tandem/config';
import { openRedisStore, openValkeyStore } from '@tandem/counting';
import { compareCounts, formatComparison } from './compare.ts';
import { pipelinesSchema } from './config.ts';

const config = loadServiceConfig('compare', pipelinesSchema);
const { values: flags } = parseArgs({ options: { json: { type: 'boolean' }, check: { type: 'boolean' } } });

// The TTL only matters when applying; comparing only reads.
const stores = await Promise.all([
  openRedisStore(config.REDIS_URL, { dedupTtlSeconds: 1 }),
  openValkeyStore(config.VALKEY_URL, { dedupTtlSeconds: 1 }),
]);
try {
  const [redis, valkey] = await Promise.all(stores.map((store) => store.counts()));
  if (!redis || !valkey) throw new Error('unreachable');
  const describe = (promise: Promise<number>) =>
    promise.then(
      (n) => ({ messages: n as number | null, error: undefined as string | undefined }),
      (error: Error) => ({ messages: null, error: error.message }),
    );
  const [kafka, rabbitmq] = await Promise.all([
    describe(
      kafkaGroupBacklog({
        brokers: config.KAFKA_BROKERS,
        topic: config.KAFKA_TOPIC,
        groupId: config.KAFKA_GROUP,
      }),
    ),
    describe(rabbitQueueBacklog({ url: config.RABBITMQ_URL, queue: config.RABBITMQ_QUEUE })),
  ]);
  const comparison = compareCounts(redis, valkey);
  if (flags.json) {
    console.log(
      JSON.stringify(
        { redis, valkey, differences: comparison.differences, backlog: { kafka, rabbitmq } },
        null,
        2,
      ),
    );
  } else {
    const show = (b: { messages: number | null; error: string | undefined }, what: string) =>
      b.messages === null ? `unknown (${b.error})` : `${b.messages} messages ${what}`;
    console.log(
      formatComparison(comparison, {
        kafka: show(kafka, `(lag of group ${config.KAFKA_GROUP} on topic ${config.KAFKA_TOPIC})`),
        rabbitmq: show(rabbitmq, `(in queue ${config.RABBITMQ_QUEUE})`),
      }),
    );
  }
  if (flags.check && comparison.differences.length > 0) process.exitCode = 1;
} finally {
  await Promise.all(stores.map((store) => store.close()));
}
