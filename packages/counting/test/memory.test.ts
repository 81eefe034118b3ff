import { describe, expect, it } from 'vitest';
import { MemoryCountingStore, MemoryKeyspace } from '../src/index.ts';
import type { Harness } from './store.case.ts';
import { countingStoreCases } from './store.case.ts';

countingStoreCases({
  name: 'memory',
  server: false,
  async setup(): Promise<Harness> {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const keyspace = new MemoryKeyspace({ now: () => now });
    return {
      async open(options = {}) {
        return new MemoryCountingStore({ ...options, keyspace });
      },
      async seenTtlMs(id) {
        return keyspace.seenTtlMs(id);
      },
      async elapse(ms) {
        now += ms;
      },
      async dispose() {},
      async refuseWrites(reason) {
        keyspace.refuseWrites = reason;
      },
    };
  },
});

describe('MemoryCountingStore', () => {
  it('keeps an id up to and including its expiry millisecond, as Redis does', async () => {
    let now = 0;
    const store = new MemoryCountingStore({
      dedupTtlSeconds: 1,
      keyspace: new MemoryKeyspace({ now: () => now }),
    });
    const message = { id: 'a', country: 'GT', weather: 'Rainy' };
    await store.apply([message]);
    now = 1_000;
    expect(await store.apply([message])).toEqual({ counted: 0, duplicates: 1 });
    now = 1_001;
    expect(await store.apply([message])).toEqual({ counted: 1, duplicates: 0 });
  });

  it('works with no options: a fresh keyspace, the real clock, the default window', async () => {
    const store = new MemoryCountingStore();
    expect(store.dedupTtlSeconds).toBe(604_800);
    await store.apply([{ id: 'a', country: 'GT', weather: 'Rainy' }]);
    expect(store.keyspace.seenTtlMs('a')).toBeGreaterThan(604_799_000);
  });

  it('rejects a dedup window that is not a positive whole number of seconds', () => {
    expect(() => new MemoryCountingStore({ dedupTtlSeconds: 0 })).toThrow(RangeError);
  });
});
