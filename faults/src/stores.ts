/**
 * Reading the two counting stores from outside, to check the invariant: every accepted id counted exactly once in
 * each store, nothing else counted. `seen:<id>` is written by the same atomic script that increments the counters,
 * only when the id is new; so an id with its `seen` key is counted, once. A counter above the number of such ids
 * means a message counted twice, or something counted that was never accepted.
 */
import { keys, openRedisStore, openValkeyStore } from '@tandem/counting';

type RedisClient = Awaited<ReturnType<typeof openRedisStore>>['client'];
type ValkeyClient = Awaited<ReturnType<typeof openValkeyStore>>['client'];
type Client = RedisClient | ValkeyClient;

export interface StoreView {
  name: 'redis' | 'valkey';
  /** `country:counts` for one country (0 if absent). */
  countryCount(country: string): Promise<number>;
  /** `messages:total`. */
  total(): Promise<number>;
  /** How many of `ids` have their `seen:` record. */
  present(ids: readonly string[]): Promise<Set<string>>;
  /** Every id with a `seen:` record. */
  allSeen(): Promise<Set<string>>;
  close(): Promise<void>;
}

async function view(
  name: StoreView['name'],
  open: () => Promise<{ client: Client; close(): Promise<void> }>,
) {
  const store = await open();
  const client = store.client;
  // The test's own connection reconnects through store restarts too; its errors are expected then.
  client.on('error', () => {});
  return {
    name,
    async countryCount(country: string) {
      const value = await client.hget(keys.countryCounts, country);
      return value === null ? 0 : Number(value);
    },
    async total() {
      return Number((await client.get(keys.total)) ?? 0);
    },
    async present(ids: readonly string[]) {
      const found = new Set<string>();
      for (let start = 0; start < ids.length; start += 2000) {
        const chunk = ids.slice(start, start + 2000);
        const pipeline = client.pipeline();
        for (const id of chunk) pipeline.exists(keys.seen(id));
        const replies = (await pipeline.exec()) ?? [];
        replies.forEach(([error, result], i) => {
          if (error) throw error;
          if (result === 1) found.add(chunk[i] as string);
        });
      }
      return found;
    },
    async allSeen() {
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', keys.seen('*'), 'COUNT', 5000);
        cursor = next;
        for (const key of batch) found.add(key.slice(keys.seen('').length));
      } while (cursor !== '0');
      return found;
    },
    close: () => store.close(),
  } satisfies StoreView;
}

export async function openStores(env: Record<string, string>): Promise<[StoreView, StoreView]> {
  return Promise.all([
    view('redis', () => openRedisStore(env.REDIS_URL as string, { connectionName: 'faults' })),
    view('valkey', () => openValkeyStore(env.VALKEY_URL as string, { connectionName: 'faults' })),
  ]);
}

export interface PhaseCheck {
  store: StoreView['name'];
  accepted: number;
  /** Accepted ids with no `seen:` record: not counted. */
  lost: number;
  /** Counted under the phase's country beyond the accepted ids that are there: counted twice, or never accepted. */
  doubleCounted: number;
}

export async function checkPhase(
  store: StoreView,
  country: string,
  ids: readonly string[],
): Promise<PhaseCheck> {
  const [counted, present] = await Promise.all([store.countryCount(country), store.present(ids)]);
  return {
    store: store.name,
    accepted: ids.length,
    lost: ids.length - present.size,
    doubleCounted: Math.max(0, counted - present.size),
  };
}
