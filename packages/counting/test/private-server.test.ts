/**
 * The store on a server of the test's own (private-server.ts), Redis and Valkey: one script call per batch as the
 * server counts it, and a server that refuses writes (maxmemory, a replica) refusing a whole batch with nothing of
 * it written — things a server of the shared stack cannot be made to show without disturbing its other users.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientCountingStore,
  type Countable,
  keys,
  MAX_MESSAGES_PER_SCRIPT_CALL,
  openRedisStore,
  openValkeyStore,
  StoreWriteRefusedError,
} from '../src/index.ts';
import { commandCalls, type PrivateServer, startPrivateServer } from './private-server.ts';

const countries = ['GT', 'MX', 'SV', 'HN', 'CR'];
const weathers = ['Sunny', 'Cloudy', 'Rainy'];
const batchOf = (size: number): Countable[] =>
  Array.from({ length: size }, (_, i) => ({
    id: randomUUID(),
    country: countries[i % countries.length] ?? 'GT',
    weather: weathers[i % weathers.length] ?? 'Sunny',
  }));

const servers = [
  { name: 'Redis (ioredis)', binary: 'redis-server', open: openRedisStore },
  { name: 'Valkey (iovalkey)', binary: 'valkey-server', open: openValkeyStore },
] as const;

describe.each(servers)('the counting store on a private $name server', ({ binary, open }) => {
  let server: PrivateServer;
  let store: ClientCountingStore;

  beforeAll(async () => {
    server = await startPrivateServer(binary);
    store = await open(server.url);
  }, 30_000);

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  /** The calls each command made on the server while `action` ran (INFO commandstats, before and after). */
  async function callsDuring(action: () => Promise<unknown>): Promise<Record<string, number>> {
    const before = await commandCalls(server.admin);
    await action();
    const after = await commandCalls(server.admin);
    return Object.fromEntries(
      Object.entries(after)
        .map(([name, calls]) => [name, calls - (before[name] ?? 0)] as const)
        .filter(([name, calls]) => calls > 0 && name !== 'info'),
    );
  }

  it('counts a batch of 500 with one script call: one SET per message, one increment per distinct field', async () => {
    await store.apply(batchOf(1)); // the script's text goes once per connection (EVAL), then its hash
    await server.admin.config('RESETSTAT');
    const batch = batchOf(500);
    const calls = await callsDuring(() => store.apply([...batch, batch[0] as Countable]));
    // 5 countries × 3 weathers, cycling together: 15 country:weather pairs, 5 + 3 + 15 HINCRBY and one INCRBY.
    expect(calls).toEqual({ evalsha: 1, set: 501, hincrby: 23, incrby: 1 });
    expect((await store.counts()).total).toBe(501);
  });

  it(`splits a batch of 2,500 into ${Math.ceil(2_500 / MAX_MESSAGES_PER_SCRIPT_CALL)} script calls`, async () => {
    const calls = await callsDuring(() => store.apply(batchOf(2_500)));
    expect(calls).toMatchObject({ evalsha: Math.ceil(2_500 / MAX_MESSAGES_PER_SCRIPT_CALL), set: 2_500 });
  });

  it.each([
    [
      'oom',
      'at maxmemory',
      () => server.admin.config('SET', 'maxmemory', '1'),
      () => server.admin.config('SET', 'maxmemory', '0'),
    ],
    [
      'readonly',
      'as a replica',
      () => server.admin.replicaof('127.0.0.1', server.closedPort),
      () => server.admin.replicaof('NO', 'ONE'),
    ],
  ] as const)(
    'refuses a whole batch (%s, %s): nothing of it recorded or counted; counted once after',
    async (reason, _as, refuse, takeAgain) => {
      const earlier = batchOf(10);
      await store.apply(earlier);
      const counts = await store.counts();
      const counters = () =>
        Promise.all([
          server.admin.hgetall(keys.countryCounts),
          server.admin.get(keys.total),
          server.admin.hgetall(keys.weatherCounts),
          server.admin.hgetall(keys.countryWeatherCounts),
        ]);
      const before = await counters();
      const keysBefore = await server.admin.dbsize();
      // More than one script call's worth, new ids and earlier ones.
      const batch = [...batchOf(MAX_MESSAGES_PER_SCRIPT_CALL + 200), ...earlier];
      await refuse();
      try {
        const refused = await store.apply(batch).then(
          () => undefined,
          (error: unknown) => error,
        );
        expect(refused).toBeInstanceOf(StoreWriteRefusedError);
        expect(refused).toMatchObject({
          reason,
          message: new RegExp(`failed for ${batch.length} of ${batch.length} messages: (OOM|READONLY) `),
        });
        expect(await server.admin.dbsize()).toBe(keysBefore);
        expect(await counters()).toEqual(before);
        // The counts still read while writes are refused (Redis 7.0 refuses a MULTI of reads at maxmemory).
        expect(await store.counts()).toEqual(counts);
      } finally {
        await takeAgain();
      }
      expect(await store.apply(batch)).toEqual({ counted: batch.length - 10, duplicates: 10 });
      expect((await store.counts()).total).toBe(counts.total + batch.length - 10);
    },
  );
});
