/**
 * What the tools read from the two pipelines' ends: the stores' counts, the ids of one run (`seen:<prefix>*`),
 * and how far each consumer is behind. The same variables as the services and `npm run compare`.
 */
import { kafkaGroupBacklog, rabbitQueueBacklog } from '@tandem/brokers';
import { type PipelinesConfig, pipelinesSchema } from '@tandem/compare/config';
import { kafkaConnection, loadStackEnv, parseConfig } from '@tandem/config';
import { type Counts, keys, openRedisStore, openValkeyStore } from '@tandem/counting';

export type { PipelinesConfig } from '@tandem/compare/config';

/** The variables from the environment over `.stack/env`; throws a ConfigError naming each bad one. */
export function pipelinesConfig(overrides: Record<string, string> = {}): PipelinesConfig {
  loadStackEnv();
  return parseConfig(pipelinesSchema, { ...process.env, ...overrides });
}

export type StoreName = 'redis' | 'valkey';
export const storeNames: readonly StoreName[] = ['redis', 'valkey'];

export interface Stores {
  counts(): Promise<Record<StoreName, Counts>>;
  totals(): Promise<Record<StoreName, number>>;
  /** How many ids starting with `prefix` each store has recorded (SCAN; fine for a run's worth of ids). */
  seen(prefix: string): Promise<Record<StoreName, number>>;
  /** Empties the stores' database (the bench's own database only). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function openStores(config: Pick<PipelinesConfig, 'REDIS_URL' | 'VALKEY_URL'>): Promise<Stores> {
  // The TTL only matters when applying; these stores only read.
  const [redis, valkey] = await Promise.all([
    openRedisStore(config.REDIS_URL, { dedupTtlSeconds: 1, connectionName: 'tandem-loadtest' }),
    openValkeyStore(config.VALKEY_URL, { dedupTtlSeconds: 1, connectionName: 'tandem-loadtest' }),
  ]);
  const both = async <T>(read: (store: typeof redis | typeof valkey) => Promise<T>) => {
    const [r, v] = await Promise.all([read(redis), read(valkey)]);
    return { redis: r, valkey: v };
  };
  return {
    counts: () => both((store) => store.counts()),
    totals: async () => {
      const [r, v] = await Promise.all([redis.client.get(keys.total), valkey.client.get(keys.total)]);
      return { redis: Number(r ?? 0), valkey: Number(v ?? 0) };
    },
    seen: (prefix) =>
      both(async (store) => {
        let cursor = '0';
        let found = 0;
        do {
          const [next, batch] = await store.client.scan(
            cursor,
            'MATCH',
            `${keys.seen(prefix)}*`,
            'COUNT',
            5000,
          );
          cursor = next;
          found += batch.length;
        } while (cursor !== '0');
        return found;
      }),
    flush: async () => {
      await Promise.all([redis.client.flushdb(), valkey.client.flushdb()]);
    },
    close: async () => {
      await Promise.all([redis.close(), valkey.close()]);
    },
  };
}

export interface Backlogs {
  /** Lag of the consumer group; null when it could not be read (the reason in `errors`). */
  kafka: number | null;
  /** Ready messages in the queue (deliveries the consumer holds unacked are not visible from outside). */
  rabbitmq: number | null;
  errors: string[];
}

export async function backlogs(config: PipelinesConfig): Promise<Backlogs> {
  const errors: string[] = [];
  const read = (name: string, promise: Promise<number>) =>
    promise.catch((error: Error) => {
      errors.push(`${name}: ${error.message}`);
      return null;
    });
  const [kafka, rabbitmq] = await Promise.all([
    read(
      'kafka',
      kafkaGroupBacklog({
        ...kafkaConnection(config),
        topic: config.KAFKA_TOPIC,
        groupId: config.KAFKA_GROUP,
        clientId: 'tandem-loadtest',
      }),
    ),
    read('rabbitmq', rabbitQueueBacklog({ url: config.RABBITMQ_URL, queue: config.RABBITMQ_QUEUE })),
  ]);
  return { kafka, rabbitmq, errors };
}
