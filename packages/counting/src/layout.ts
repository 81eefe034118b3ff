/**
 * The key layout of contract.ts as values, and the checks both implementations make before anything is written.
 */
import type { Countable } from './contract.ts';

/**
 * The default dedup window: 7 days, Kafka's default retention (`retention.ms`), so a full replay of the topic from
 * its first offset is still deduplicated.
 */
export const DEFAULT_DEDUP_TTL_SECONDS = 604_800;

export const keys = {
  countryCounts: 'country:counts',
  total: 'messages:total',
  weatherCounts: 'weather:counts',
  countryWeatherCounts: 'country_weather:counts',
  seen: (id: string) => `seen:${id}`,
} as const;

/** The field of `country_weather:counts`; unambiguous because a country never contains ':'. */
export const countryWeatherField = (country: string, weather: string) => `${country}:${weather}`;

export function checkDedupTtl(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds <= 0) {
    throw new RangeError(`dedupTtlSeconds must be a positive integer, got ${seconds}`);
  }
  return seconds;
}

/**
 * Rejects the whole batch before anything is sent: an empty id would make every message one; a ':' in a country
 * would make the `country_weather:counts` fields ambiguous.
 */
export function checkBatch(messages: readonly Countable[]): void {
  for (const [index, { id, country, weather }] of messages.entries()) {
    const problem =
      typeof id !== 'string' || id === ''
        ? 'id must be a non-empty string'
        : typeof country !== 'string' || country === '' || country.includes(':')
          ? "country must be a non-empty string without ':'"
          : typeof weather !== 'string' || weather === ''
            ? 'weather must be a non-empty string'
            : undefined;
    if (problem) throw new TypeError(`message ${index} (id ${JSON.stringify(id)}): ${problem}`);
  }
}
