/**
 * The conformance suite every CountingStore must pass: Redis, Valkey and the memory store. A real server has
 * things the memory store has not (a script cache, a wire, server-side errors); those cases run only where
 * `server` is set, and say so in their names.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Countable, CountingStore, WriteRefusal } from '../src/index.ts';
import { keys, MAX_MESSAGES_PER_SCRIPT_CALL, StoreWriteRefusedError } from '../src/index.ts';

export interface Traffic {
  /** Socket writes by the store's client: each is a round trip, as nothing is written while replies are awaited. */
  writes: number;
  /** The command names the server received from the store's client (MONITOR), in order. */
  commands: string[];
}

export interface ServerTools {
  /** SCRIPT FLUSH: the server forgets every cached script. */
  flushScripts(): Promise<void>;
  /** Sets `field` of the hash `key` (a layout key, e.g. `keys.countryCounts`) to a value that is not a count. */
  corrupt(key: string, field: string): Promise<void>;
  /** Removes `field` from the hash `key` again (HDEL). */
  repair(key: string, field: string): Promise<void>;
  /** Runs `action` and reports what the store's client sent meanwhile. */
  observe(store: CountingStore, action: () => Promise<unknown>): Promise<Traffic>;
}

export interface Harness {
  /** Opens a store on this test's keyspace; stores opened in one test share it, like two clients of one server. */
  open(options?: { dedupTtlSeconds?: number }): Promise<CountingStore>;
  /** Milliseconds left on the idempotency record of `id` (PTTL), or undefined if there is none. */
  seenTtlMs(id: string): Promise<number | undefined>;
  /** Lets `ms` pass: a real server is waited for, the memory store's clock is moved. */
  elapse(ms: number): Promise<void>;
  /** Closes every store it opened and removes this test's keys. */
  dispose(): Promise<void>;
  /** Makes the server refuse every write ('oom', 'readonly') or take them again (undefined): memory only. */
  refuseWrites?(reason: WriteRefusal | undefined): Promise<void>;
  server?: ServerTools;
}

export interface StoreUnderTest {
  name: string;
  /** A real server: run the cases about the script cache, the wire and server-side errors. */
  server: boolean;
  /** A fresh, empty keyspace for one test. */
  setup(): Promise<Harness>;
}

const message = (country: string, weather: string, id: string = randomUUID()): Countable => ({
  id,
  country,
  weather,
});

const batchOf = (size: number, country = 'GT', weather = 'Rainy') =>
  Array.from({ length: size }, () => message(country, weather));

const empty = { total: 0, byCountry: {}, byWeather: {}, byCountryWeather: {} };

export function countingStoreCases(subject: StoreUnderTest): void {
  describe(`CountingStore conformance: ${subject.name}`, () => {
    let harness: Harness;
    let store: CountingStore;

    beforeEach(async () => {
      harness = await subject.setup();
      store = await harness.open();
    });

    afterEach(async () => {
      await harness.dispose();
    });

    const server = (): ServerTools => {
      if (!harness.server) throw new Error(`${subject.name} says it is a server but gives no server tools`);
      return harness.server;
    };

    it('reads all zeros from an empty store', async () => {
      expect(await store.counts()).toEqual(empty);
    });

    it('counts new ids in all four counters', async () => {
      const result = await store.apply([
        message('GT', 'Rainy'),
        message('GT', 'Sunny'),
        message('MX', 'Rainy'),
      ]);
      expect(result).toEqual({ counted: 3, duplicates: 0 });
      expect(await store.counts()).toEqual({
        total: 3,
        byCountry: { GT: 2, MX: 1 },
        byWeather: { Rainy: 2, Sunny: 1 },
        byCountryWeather: { 'GT:Rainy': 1, 'GT:Sunny': 1, 'MX:Rainy': 1 },
      });
    });

    it('counts a duplicate id inside one batch once', async () => {
      const first = message('GT', 'Rainy');
      expect(await store.apply([first, message('MX', 'Cloudy'), first, first])).toEqual({
        counted: 2,
        duplicates: 2,
      });
      expect(await store.counts()).toMatchObject({ total: 2, byCountry: { GT: 1, MX: 1 } });
    });

    it('counts a duplicate id across batches once, whatever the duplicate carries', async () => {
      const first = message('GT', 'Rainy');
      expect(await store.apply([first])).toEqual({ counted: 1, duplicates: 0 });
      // A redelivery is the same message; if an id is reused with other fields, the first one counted wins.
      expect(await store.apply([{ ...first, country: 'MX' }, message('SV', 'Sunny')])).toEqual({
        counted: 1,
        duplicates: 1,
      });
      expect(await store.counts()).toEqual({
        total: 2,
        byCountry: { GT: 1, SV: 1 },
        byWeather: { Rainy: 1, Sunny: 1 },
        byCountryWeather: { 'GT:Rainy': 1, 'SV:Sunny': 1 },
      });
    });

    it('records an id with the dedup window as its TTL', async () => {
      const week = 604_800;
      const weekly = await harness.open({ dedupTtlSeconds: week });
      const counted = message('GT', 'Rainy');
      await weekly.apply([counted]);
      const ttl = await harness.seenTtlMs(counted.id);
      expect(ttl).toBeGreaterThan((week - 5) * 1000);
      expect(ttl).toBeLessThanOrEqual(week * 1000);
      expect(await harness.seenTtlMs(randomUUID())).toBeUndefined();
    });

    it('counts an id again once its record expired', async () => {
      const brief = await harness.open({ dedupTtlSeconds: 1 });
      const again = message('GT', 'Rainy');
      expect(await brief.apply([again])).toEqual({ counted: 1, duplicates: 0 });
      expect(await brief.apply([again])).toEqual({ counted: 0, duplicates: 1 });
      await harness.elapse(1_100);
      expect(await harness.seenTtlMs(again.id)).toBeUndefined();
      expect(await brief.apply([again])).toEqual({ counted: 1, duplicates: 0 });
      expect((await brief.counts()).total).toBe(2);
    });

    it('counts 1,000 ids exactly once when two clients apply them concurrently', async () => {
      const other = await harness.open();
      const batch = batchOf(1_000);
      const [mine, theirs] = await Promise.all([store.apply(batch), other.apply(batch)]);
      expect(mine.counted + theirs.counted).toBe(1_000);
      expect(mine.duplicates + theirs.duplicates).toBe(1_000);
      expect(mine.counted + mine.duplicates).toBe(1_000);
      expect(await other.counts()).toEqual({
        total: 1_000,
        byCountry: { GT: 1_000 },
        byWeather: { Rainy: 1_000 },
        byCountryWeather: { 'GT:Rainy': 1_000 },
      });
    });

    it('applies a batch of 5,000 in one call', async () => {
      const batch = [...batchOf(2_500, 'GT', 'Rainy'), ...batchOf(2_500, 'MX', 'Sunny')];
      expect(await store.apply(batch)).toEqual({ counted: 5_000, duplicates: 0 });
      expect(await store.counts()).toEqual({
        total: 5_000,
        byCountry: { GT: 2_500, MX: 2_500 },
        byWeather: { Rainy: 2_500, Sunny: 2_500 },
        byCountryWeather: { 'GT:Rainy': 2_500, 'MX:Sunny': 2_500 },
      });
      expect(await store.apply(batch)).toEqual({ counted: 0, duplicates: 5_000 });
    });

    it('keeps country names with spaces, apostrophes, dots, hyphens and accents as they are', async () => {
      const countries = ["CÔTE D'IVOIRE", 'ST. KITTS AND NEVIS', 'GUINEA-BISSAU', 'PERÚ', 'UNITED STATES'];
      await store.apply(countries.map((country) => message(country, 'Cloudy')));
      const counts = await store.counts();
      expect(counts.byCountry).toEqual(Object.fromEntries(countries.map((country) => [country, 1])));
      expect(counts.byCountryWeather).toEqual(
        Object.fromEntries(countries.map((country) => [`${country}:Cloudy`, 1])),
      );
    });

    it("rejects a whole batch with an empty id or a ':' in a country before writing anything", async () => {
      const good = message('GT', 'Rainy');
      await expect(store.apply([good, message('GT', 'Rainy', '')])).rejects.toThrow(/message 1 .*id/);
      await expect(store.apply([good, message('GT:X', 'Rainy')])).rejects.toThrow(/message 1 .*country/);
      expect(await store.counts()).toEqual(empty);
      expect(await harness.seenTtlMs(good.id)).toBeUndefined();
    });

    it('answers an empty batch with zeros', async () => {
      expect(await store.apply([])).toEqual({ counted: 0, duplicates: 0 });
    });

    it('pings, closes twice, and rejects work once closed', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await store.close();
      await expect(store.apply([message('GT', 'Rainy')])).rejects.toThrow(/closed/);
      await expect(store.counts()).rejects.toThrow(/closed/);
      await expect(store.ping()).rejects.toThrow(/closed/);
    });

    // Registered only for the memory store: a server of the shared stack cannot refuse this test's writes without
    // refusing everyone's. The fault suite makes its private stack's servers refuse them (OOM), under load.
    const whereWritesCanBeRefused: (name: string, cases: () => void) => void = subject.server
      ? () => {}
      : describe;
    whereWritesCanBeRefused('while the server refuses writes', () => {
      it.each(['oom', 'readonly'] as const)(
        'rejects a batch as refused (%s), counts none of it, reads on, and counts it once after',
        async (reason) => {
          const refuse = (r: WriteRefusal | undefined) => {
            if (!harness.refuseWrites) throw new Error(`${subject.name} cannot refuse writes`);
            return harness.refuseWrites(r);
          };
          const before = message('GT', 'Rainy');
          await store.apply([before]);
          const batch = [message('GT', 'Rainy'), before, message('MX', 'Sunny')];
          await refuse(reason);
          const refused = await store.apply(batch).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(refused).toBeInstanceOf(StoreWriteRefusedError);
          expect(refused).toMatchObject({ reason, message: /failed for 3 of 3 messages: (OOM|READONLY) / });
          expect(await store.apply([])).toEqual({ counted: 0, duplicates: 0 });
          expect((await store.counts()).total).toBe(1);
          expect(await harness.seenTtlMs(batch[0]?.id ?? '')).toBeUndefined();
          await refuse(undefined);
          expect(await store.apply(batch)).toEqual({ counted: 2, duplicates: 1 });
          expect((await store.counts()).byCountry).toEqual({ GT: 2, MX: 1 });
        },
      );
    });

    // Registered only for a real server (the in-memory store has no wire, script cache or server-side errors),
    // instead of being reported as skipped in every run.
    const onRealServer: (name: string, cases: () => void) => void = subject.server ? describe : () => {};
    onRealServer('on a real server', () => {
      it('applies a batch in one round trip: one write, one script call for the whole batch', async () => {
        // A fresh connection: the call sends the script's text (EVAL), the next ones its hash (EVALSHA), with no
        // SCRIPT LOAD or SCRIPT EXISTS before it.
        const fresh = await harness.open();
        expect(await server().observe(fresh, () => fresh.apply(batchOf(100)))).toEqual({
          writes: 1,
          commands: ['eval'],
        });
        expect(await server().observe(fresh, () => fresh.apply(batchOf(500)))).toEqual({
          writes: 1,
          commands: ['evalsha'],
        });
      });

      it('splits a batch into calls of MAX_MESSAGES_PER_SCRIPT_CALL messages, in one write', async () => {
        await store.apply(batchOf(1));
        const seen = batchOf(700, 'MX', 'Sunny');
        await store.apply(seen);
        // New and already-seen ids across the chunks, and an id twice in two different chunks.
        const again = message('SV', 'Cloudy');
        const batch = [again, ...batchOf(1_199), ...seen, again, ...batchOf(99, 'SV', 'Cloudy')];
        let result: unknown;
        const traffic = await server().observe(store, async () => {
          result = await store.apply(batch);
        });
        expect(traffic).toEqual({ writes: 1, commands: ['evalsha', 'evalsha'] });
        expect(batch).toHaveLength(2 * MAX_MESSAGES_PER_SCRIPT_CALL);
        expect(result).toEqual({ counted: 1_299, duplicates: 701 });
        expect(await store.counts()).toEqual({
          total: 2_000,
          byCountry: { GT: 1_200, MX: 700, SV: 100 },
          byWeather: { Rainy: 1_200, Sunny: 700, Cloudy: 100 },
          byCountryWeather: { 'GT:Rainy': 1_200, 'MX:Sunny': 700, 'SV:Cloudy': 100 },
        });
      });

      it('sends nothing for an empty batch', async () => {
        expect(await server().observe(store, () => store.apply([]))).toEqual({ writes: 0, commands: [] });
      });

      it('reads the counters in one script call', async () => {
        await store.counts(); // the script's text goes once per connection, then its hash
        const traffic = await server().observe(store, () => store.counts());
        expect(traffic).toEqual({ writes: 1, commands: ['evalsha'] });
      });

      it('still counts, once, after the server flushed its script cache', async () => {
        const before = batchOf(10);
        await store.apply(before);
        await server().flushScripts();
        expect(await store.apply([...before, ...batchOf(10)])).toEqual({ counted: 10, duplicates: 10 });
        expect((await store.counts()).total).toBe(20);
      });

      it('rejects a batch whose counting fails on the server, and leaves nothing of it written', async () => {
        const before = message('GT', 'Rainy');
        await store.apply([before]);
        // Fails the weather increment, after the country and total ones (new fields among them) were made.
        await server().corrupt(keys.weatherCounts, 'Hail');
        const fresh = [message('GT', 'Rainy'), message('XX', 'Rainy'), message('MX', 'Hail')];
        const batch = [...fresh, before];
        await expect(store.apply(batch)).rejects.toThrow(/failed for 4 of 4 messages: .*not an integer/);
        // No server rolls a script back; the script undoes its own writes: no new id recorded, no counter moved, no
        // field it had created left behind.
        expect(await Promise.all(fresh.map(({ id }) => harness.seenTtlMs(id)))).toEqual([
          undefined,
          undefined,
          undefined,
        ]);
        await expect(store.counts()).rejects.toThrow(/weather:counts holds "not a count"/);
        await server().repair(keys.weatherCounts, 'Hail');
        expect(await store.counts()).toEqual({
          total: 1,
          byCountry: { GT: 1 },
          byWeather: { Rainy: 1 },
          byCountryWeather: { 'GT:Rainy': 1 },
        });
        expect(await store.apply(batch)).toEqual({ counted: 3, duplicates: 1 });
        expect(await store.counts()).toEqual({
          total: 4,
          byCountry: { GT: 2, XX: 1, MX: 1 },
          byWeather: { Rainy: 3, Hail: 1 },
          byCountryWeather: { 'GT:Rainy': 2, 'XX:Rainy': 1, 'MX:Hail': 1 },
        });
      });
    });
  });
}
