/**
 * The counting store on a real server: one implementation for Redis (ioredis) and Valkey (iovalkey). iovalkey is a
 * fork of ioredis with the same API, so the store only asks for the few methods it uses (CountingClient) and the
 * two `open…Store` functions differ only in the class they construct.
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';
import type { ApplyResult, Countable, CountingStore, Counts } from './contract.ts';
import { checkBatch, checkDedupTtl, DEFAULT_DEDUP_TTL_SECONDS, keys } from './layout.ts';
import { StoreWriteRefusedError, writeRefusalOf } from './refusal.ts';

/** The script's text, read once when this module loads. */
export const countBatchScript = readFileSync(new URL('./count-batch.lua', import.meta.url), 'utf8');

/** The name the script is defined under on the client (`defineCommand`). */
const COUNT_BATCH = 'tandemCountBatch';

/** The script reading the counters (read-counts.lua), and its name on the client. */
export const readCountsScript = readFileSync(new URL('./read-counts.lua', import.meta.url), 'utf8');
const READ_COUNTS = 'tandemReadCounts';

/** The counter keys the script takes before the batch's `seen:<id>` keys, in its order (see count-batch.lua). */
const COUNTER_KEYS = [keys.countryCounts, keys.total, keys.weatherCounts, keys.countryWeatherCounts] as const;

/**
 * The most messages one script call counts; a longer batch is split into calls of at most this many, sent in one
 * pipeline. A script blocks the server while it runs (every other client waits), and a call's keys and arguments
 * are held whole on both sides: 1,000 messages cost the server about 5 ms of CPU (measured on Redis 7.0 and Valkey
 * 8.0, ~5 µs a message) and ~100 kB of request, a bounded stall, while the consumers' batches (500 at most by
 * default) still go in one call.
 */
export const MAX_MESSAGES_PER_SCRIPT_CALL = 1_000;

type Replies = [error: Error | null, result: unknown][] | null;

/** What the store needs of a client. ioredis's and iovalkey's `Redis` both have it. */
export interface CountingClient {
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void;
  pipeline(): { exec(): Promise<Replies> };
  ping(): Promise<unknown>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/**
 * `defineCommand` adds the script as a method at run time, on the client and on each pipeline; the types cannot
 * know. Defined without `numberOfKeys`, it takes the number of keys first, as EVAL does.
 */
type CountBatchPipeline = Record<
  typeof COUNT_BATCH,
  (numberOfKeys: number, ...args: (string | number)[]) => unknown
> & {
  exec(): Promise<Replies>;
};

/** The reading script as a method of the client (`defineCommand`, four keys). */
type ReadCountsClient = Record<typeof READ_COUNTS, (...keys: string[]) => Promise<unknown>>;

export interface CountingStoreOptions {
  /** How long an id is remembered (seconds). Default DEFAULT_DEDUP_TTL_SECONDS; services read DEDUP_TTL_SECONDS. */
  dedupTtlSeconds?: number;
}

export interface OpenStoreOptions extends CountingStoreOptions {
  /** Prepended by the client to every key, the script's included (e.g. `test:<uuid>:` to isolate a test). */
  keyPrefix?: string;
  /** The connection's name in CLIENT LIST, e.g. the service's name. */
  connectionName?: string;
}

/** A store on a server, with the client it owns (for diagnostics and tests; counting goes through the store). */
export interface ClientCountingStore<C extends CountingClient = CountingClient> extends CountingStore {
  readonly client: C;
  readonly dedupTtlSeconds: number;
}

/**
 * Builds the store on a connected (or connecting) client, which it then owns: `close()` quits it. The script is
 * defined on the client here; the client sends it with EVAL the first time on each connection and with EVALSHA
 * after, and re-sends it if the server answers NOSCRIPT (its script cache was flushed or it restarted).
 */
export function createCountingStore<C extends CountingClient>(
  client: C,
  options: CountingStoreOptions = {},
): ClientCountingStore<C> {
  return new ServerCountingStore(client, checkDedupTtl(options.dedupTtlSeconds ?? DEFAULT_DEDUP_TTL_SECONDS));
}

/** Connects to Redis with ioredis and builds the store. Rejects with the server's error if it cannot connect. */
export async function openRedisStore(
  url: string,
  options: OpenStoreOptions = {},
): Promise<ClientCountingStore<Redis>> {
  checkDedupTtl(options.dedupTtlSeconds ?? DEFAULT_DEDUP_TTL_SECONDS);
  return createCountingStore(await connect(new Redis(url, clientOptions(options))), options);
}

/** Connects to Valkey with iovalkey and builds the store. Rejects with the server's error if it cannot connect. */
export async function openValkeyStore(
  url: string,
  options: OpenStoreOptions = {},
): Promise<ClientCountingStore<Valkey>> {
  checkDedupTtl(options.dedupTtlSeconds ?? DEFAULT_DEDUP_TTL_SECONDS);
  return createCountingStore(await connect(new Valkey(url, clientOptions(options))), options);
}

function clientOptions({ keyPrefix, connectionName }: OpenStoreOptions) {
  return {
    // Connect explicitly, so that opening fails (and says why) instead of queueing commands for a server that is
    // not there.
    lazyConnect: true,
    ...(keyPrefix ? { keyPrefix } : {}),
    ...(connectionName ? { connectionName } : {}),
  };
}

interface ConnectingClient {
  connect(): Promise<void>;
  disconnect(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * `connect()` of ioredis/iovalkey rejects with a bare "Connection is closed." and keeps reconnecting; the cause
 * (WRONGPASS, ECONNREFUSED, …) only comes as an 'error' event. Report that cause and stop reconnecting.
 */
async function connect<C extends ConnectingClient>(client: C): Promise<C> {
  let cause: Error | undefined;
  const onError = (error: Error) => {
    cause ??= error;
  };
  client.on('error', onError);
  try {
    await client.connect();
    return client;
  } catch (error) {
    client.disconnect();
    throw cause ?? error;
  } finally {
    client.off('error', onError);
  }
}

class ServerCountingStore<C extends CountingClient> implements ClientCountingStore<C> {
  readonly client: C;
  readonly dedupTtlSeconds: number;
  #closing: Promise<void> | undefined;

  constructor(client: C, dedupTtlSeconds: number) {
    this.client = client;
    this.dedupTtlSeconds = dedupTtlSeconds;
    // No `numberOfKeys`: it varies with the batch, so each call gives it first.
    client.defineCommand(COUNT_BATCH, { lua: countBatchScript });
    client.defineCommand(READ_COUNTS, { lua: readCountsScript, numberOfKeys: 4 });
  }

  async apply(messages: readonly Countable[]): Promise<ApplyResult> {
    this.#checkOpen();
    checkBatch(messages);
    if (messages.length === 0) return { counted: 0, duplicates: 0 };
    const pipeline = this.client.pipeline() as unknown as CountBatchPipeline;
    const chunkSizes: number[] = [];
    for (let start = 0; start < messages.length; start += MAX_MESSAGES_PER_SCRIPT_CALL) {
      const chunk = messages.slice(start, start + MAX_MESSAGES_PER_SCRIPT_CALL);
      // EVALSHA's arguments after the hash: the number of keys, the keys (counters, then one `seen:` per message),
      // the dedup window, then country and weather per message.
      const keyCount = COUNTER_KEYS.length + chunk.length;
      const args = new Array<string | number>(1 + keyCount + 1 + 2 * chunk.length);
      args[0] = keyCount;
      for (const [index, key] of COUNTER_KEYS.entries()) args[1 + index] = key;
      args[1 + keyCount] = this.dedupTtlSeconds;
      // An indexed loop: this runs for every message the consumers count, and builds no iterator entries.
      for (let index = 0; index < chunk.length; index += 1) {
        const { id, country, weather } = chunk[index] as Countable;
        args[1 + COUNTER_KEYS.length + index] = keys.seen(id);
        args[2 + keyCount + 2 * index] = country;
        args[3 + keyCount + 2 * index] = weather;
      }
      pipeline[COUNT_BATCH](...(args as [number, ...(string | number)[]]));
      chunkSizes.push(chunk.length);
    }
    const replies = await pipeline.exec();
    if (replies?.length !== chunkSizes.length) {
      throw new Error(
        `expected ${chunkSizes.length} replies to the counting script, got ${replies?.length ?? 'none'}`,
      );
    }
    let counted = 0;
    let failed = 0;
    const failures: Error[] = [];
    for (const [index, [error, result]] of replies.entries()) {
      const size = chunkSizes[index] ?? 0;
      const failure =
        error ??
        (Number.isSafeInteger(result) && (result as number) >= 0 && (result as number) <= size
          ? undefined
          : new Error(`unexpected reply ${JSON.stringify(result)}`));
      if (failure) {
        failures.push(failure);
        failed += size;
      } else counted += result as number;
    }
    const [first] = failures;
    if (first) {
      // A failed call wrote nothing (a refusal comes before the script runs; the script undoes its own writes if an
      // increment fails), so its messages count as failed; other chunks of the batch may have been counted.
      const message = `the counting script failed for ${failed} of ${messages.length} messages: ${first.message}`;
      // Refused as a whole (OOM, READONLY) and nothing else wrong: the caller holds the batch and tries again.
      const refusal = writeRefusalOf(first);
      if (refusal && failures.every((failure) => writeRefusalOf(failure))) {
        throw new StoreWriteRefusedError(refusal, message, { cause: first });
      }
      throw new Error(message, { cause: first });
    }
    return { counted, duplicates: messages.length - counted };
  }

  async counts(): Promise<Counts> {
    this.#checkOpen();
    const reply = await (this.client as unknown as ReadCountsClient)[READ_COUNTS](
      keys.countryCounts,
      keys.total,
      keys.weatherCounts,
      keys.countryWeatherCounts,
    );
    if (!Array.isArray(reply) || reply.length !== 4) {
      throw new Error(`the script reading the counters answered ${JSON.stringify(reply)}`);
    }
    const [byCountry, total, byWeather, byCountryWeather] = reply as unknown[];
    return {
      total: total === null ? 0 : toCount(total, keys.total),
      byCountry: toCounts(byCountry, keys.countryCounts),
      byWeather: toCounts(byWeather, keys.weatherCounts),
      byCountryWeather: toCounts(byCountryWeather, keys.countryWeatherCounts),
    };
  }

  async ping(): Promise<void> {
    this.#checkOpen();
    await this.client.ping();
  }

  close(): Promise<void> {
    // QUIT lets the server answer what is in flight first; if the connection is already gone, just drop it.
    this.#closing ??= this.client.quit().then(
      () => undefined,
      () => this.client.disconnect(),
    );
    return this.#closing;
  }

  #checkOpen(): void {
    if (this.#closing) throw new Error('the counting store is closed');
  }
}

function toCount(value: unknown, key: string): number {
  const count = typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(count)) throw new Error(`${key} holds ${JSON.stringify(value)}, not a count`);
  return count;
}

/** A hash as the script returns it: HGETALL's flat field, value, field, value… */
function toCounts(flat: unknown, key: string): Record<string, number> {
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error(`${key} is not a hash`);
  const counts: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) counts[String(flat[i])] = toCount(flat[i + 1], key);
  return counts;
}
