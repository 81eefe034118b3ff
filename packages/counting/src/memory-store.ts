/**
 * The counting store in memory, with the servers' semantics, for unit tests of logic in other packages. Not for
 * production: nothing is shared between processes and nothing survives a restart.
 */
import type { ApplyResult, Countable, CountingStore, Counts } from './contract.ts';
import { checkBatch, checkDedupTtl, countryWeatherField, DEFAULT_DEDUP_TTL_SECONDS } from './layout.ts';
import { refusalReplies, StoreWriteRefusedError, type WriteRefusal } from './refusal.ts';

export interface MemoryKeyspaceOptions {
  /** The clock, in milliseconds (default Date.now); a test moves a fake one to expire ids. */
  now?: () => number;
}

/**
 * What a server holds: the idempotency records and the counters. Stores built on the same keyspace behave like
 * clients of one server.
 */
export class MemoryKeyspace {
  readonly now: () => number;
  /** id → expiry (ms). */
  readonly #seen = new Map<string, number>();
  readonly byCountry = new Map<string, number>();
  readonly byWeather = new Map<string, number>();
  readonly byCountryWeather = new Map<string, number>();
  total = 0;
  /**
   * While set, every write is refused as the servers refuse it — 'oom' as at `maxmemory` under `noeviction`,
   * 'readonly' as a replica — with the same reply: `apply()` rejects with a StoreWriteRefusedError and records
   * nothing; reads go on. Clear it (undefined) and writes are taken again.
   */
  refuseWrites: WriteRefusal | undefined = undefined;

  constructor(options: MemoryKeyspaceOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Records `id` unless a record is alive; true if it was recorded now (SET NX EX). */
  record(id: string, ttlSeconds: number): boolean {
    const now = this.now();
    const expiresAt = this.#seen.get(id);
    // As in Redis, a key is alive up to and including its expiry millisecond.
    if (expiresAt !== undefined && expiresAt >= now) return false;
    this.#seen.set(id, now + ttlSeconds * 1000);
    return true;
  }

  /** Milliseconds the record of `id` has left (PTTL), or undefined if there is none. */
  seenTtlMs(id: string): number | undefined {
    const expiresAt = this.#seen.get(id);
    const left = expiresAt === undefined ? -1 : expiresAt - this.now();
    return left >= 0 ? left : undefined;
  }
}

export interface MemoryCountingStoreOptions {
  dedupTtlSeconds?: number;
  /** Share one with another store to act as a second client of the same server. Default: a new one. */
  keyspace?: MemoryKeyspace;
}

export class MemoryCountingStore implements CountingStore {
  readonly keyspace: MemoryKeyspace;
  readonly dedupTtlSeconds: number;
  #closed = false;

  constructor(options: MemoryCountingStoreOptions = {}) {
    this.dedupTtlSeconds = checkDedupTtl(options.dedupTtlSeconds ?? DEFAULT_DEDUP_TTL_SECONDS);
    this.keyspace = options.keyspace ?? new MemoryKeyspace();
  }

  async apply(messages: readonly Countable[]): Promise<ApplyResult> {
    this.#checkOpen();
    checkBatch(messages);
    const space = this.keyspace;
    // As on a server: an empty batch sends nothing, so nothing is refused.
    if (space.refuseWrites && messages.length > 0) {
      const reply = refusalReplies[space.refuseWrites];
      throw new StoreWriteRefusedError(
        space.refuseWrites,
        `the counting script failed for ${messages.length} of ${messages.length} messages: ${reply}`,
        { cause: new Error(reply) },
      );
    }
    let counted = 0;
    for (const { id, country, weather } of messages) {
      if (!space.record(id, this.dedupTtlSeconds)) continue;
      increment(space.byCountry, country);
      space.total += 1;
      increment(space.byWeather, weather);
      increment(space.byCountryWeather, countryWeatherField(country, weather));
      counted += 1;
    }
    return { counted, duplicates: messages.length - counted };
  }

  async counts(): Promise<Counts> {
    this.#checkOpen();
    const space = this.keyspace;
    return {
      total: space.total,
      byCountry: Object.fromEntries(space.byCountry),
      byWeather: Object.fromEntries(space.byWeather),
      byCountryWeather: Object.fromEntries(space.byCountryWeather),
    };
  }

  async ping(): Promise<void> {
    this.#checkOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error('the counting store is closed');
  }
}

function increment(counts: Map<string, number>, field: string): void {
  counts.set(field, (counts.get(field) ?? 0) + 1);
}
