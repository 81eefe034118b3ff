import { describe, expect, it } from 'vitest';
import { compareCounts, formatComparison } from '../src/compare.ts';

const empty = { total: 0, byCountry: {}, byWeather: {}, byCountryWeather: {} };

describe('compareCounts', () => {
  it('finds no difference between equal stores', () => {
    const counts = {
      total: 3,
      byCountry: { GT: 2, SV: 1 },
      byWeather: { Rainy: 3 },
      byCountryWeather: { 'GT:Rainy': 2, 'SV:Rainy': 1 },
    };
    const comparison = compareCounts(counts, structuredClone(counts));
    expect(comparison.differences).toEqual([]);
    expect(comparison.byCountry).toEqual([
      { key: 'GT', redis: 2, valkey: 2 },
      { key: 'SV', redis: 1, valkey: 1 },
    ]);
  });

  it('lists a key present in one store only, and the totals, as differences', () => {
    const redis = { total: 2, byCountry: { GT: 1, MX: 1 }, byWeather: { Sunny: 2 }, byCountryWeather: {} };
    const valkey = { total: 1, byCountry: { GT: 1 }, byWeather: { Sunny: 1 }, byCountryWeather: {} };
    expect(compareCounts(redis, valkey).differences).toEqual([
      { key: 'MX', redis: 1, valkey: 0 },
      { key: 'Sunny', redis: 2, valkey: 1 },
      { key: 'total', redis: 2, valkey: 1 },
    ]);
  });

  it('formats a table with the verdict and the backlog', () => {
    const text = formatComparison(compareCounts({ ...empty, total: 1, byCountry: { GT: 1 } }, empty), {
      kafka: '0 messages',
      rabbitmq: '4 messages',
    });
    expect(text).toMatch(/GT\s+1\s+0\s+\+1/);
    expect(text).toContain('2 rows differ');
    expect(text).toMatch(/RabbitMQ → Valkey\s+4 messages/);
  });
});
