/**
 * One counting store, two servers (Redis via ioredis, Valkey via iovalkey), the same key layout:
 *   country:counts          HASH  country → count           (as in the original system)
 *   messages:total          STRING total                     (as in the original system)
 *   weather:counts          HASH  weather → count
 *   country_weather:counts  HASH  "<country>:<weather>" → count (a country never contains ':')
 *   seen:<id>               STRING "1", TTL = dedup window   (the idempotency record)
 * The names are in layout.ts (`keys`); the script that writes them is count-batch.lua.
 */

/** What the store needs of a message to count it. */
export interface Countable {
  /** The message's id: the same id is counted at most once within the dedup window. */
  id: string;
  /** As validated by the edge (upper-cased; letters, spaces, '.', "'", '-'); never contains ':'. */
  country: string;
  /** The normalised weather value (e.g. "Rainy"). */
  weather: string;
}

export interface ApplyResult {
  /** Messages whose id was new: counted now. */
  counted: number;
  /**
   * Messages whose id was already recorded within the dedup window (by an earlier batch, another client, or an
   * earlier message of the same batch): not counted again. The message counted first wins, whatever a later one
   * with the same id carries.
   */
  duplicates: number;
}

export interface Counts {
  total: number;
  byCountry: Record<string, number>;
  byWeather: Record<string, number>;
  /** Keyed "<country>:<weather>". */
  byCountryWeather: Record<string, number>;
}

export interface CountingStore {
  /**
   * Applies the batch with one server-side script call (one per 1,000 messages) — atomically: record each id with
   * the dedup TTL and, only for the ids that were new, increment the counters — all in one pipelined round trip.
   * Resolves only after the server ran them all; rejects if it could not, and then applying the same batch again is
   * safe: a call that failed wrote nothing, but a longer batch is not a transaction, so another call's messages may
   * have been counted, and those are then found as duplicates.
   * A batch with an empty id or a ':' in a country is rejected before anything is sent. An empty batch resolves
   * with zeros without talking to the server.
   */
  apply(messages: readonly Countable[]): Promise<ApplyResult>;
  /** The counters, read consistently enough for comparison (one read-only script call, which also runs while the server refuses writes). All zeros for an empty store. */
  counts(): Promise<Counts>;
  /** Resolves if the server answers. */
  ping(): Promise<void>;
  /** Lets the server answer what is in flight, then disconnects. Idempotent; afterwards every call rejects. */
  close(): Promise<void>;
}
