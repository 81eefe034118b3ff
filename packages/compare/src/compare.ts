/** Redis and Valkey side by side: the same questions asked of both stores, and where their answers differ. */
import type { Counts } from '@tandem/counting';

export interface Row {
  key: string;
  redis: number;
  valkey: number;
}

export interface Comparison {
  byCountry: Row[];
  byWeather: Row[];
  byCountryWeather: Row[];
  total: Row;
  /** Rows (of any section) where the stores disagree. */
  differences: Row[];
}

function rows(redis: Record<string, number>, valkey: Record<string, number>): Row[] {
  const keys = [...new Set([...Object.keys(redis), ...Object.keys(valkey)])].sort();
  return keys.map((key) => ({ key, redis: redis[key] ?? 0, valkey: valkey[key] ?? 0 }));
}

export function compareCounts(redis: Counts, valkey: Counts): Comparison {
  const byCountry = rows(redis.byCountry, valkey.byCountry);
  const byWeather = rows(redis.byWeather, valkey.byWeather);
  const byCountryWeather = rows(redis.byCountryWeather, valkey.byCountryWeather);
  const total = { key: 'total', redis: redis.total, valkey: valkey.total };
  const differences = [...byCountry, ...byWeather, ...byCountryWeather, total].filter(
    (r) => r.redis !== r.valkey,
  );
  return { byCountry, byWeather, byCountryWeather, total, differences };
}

export const number = new Intl.NumberFormat('en-US');

/** The comparison as a terminal table. */
export function formatComparison(
  comparison: Comparison,
  backlog: { kafka: string; rabbitmq: string },
): string {
  const width = Math.max(20, ...comparison.byCountry.map((r) => r.key.length + 2));
  const line = (row: Row) => {
    const diff = row.redis - row.valkey;
    const mark = diff === 0 ? '' : `${diff > 0 ? '+' : ''}${number.format(diff)}`;
    return `  ${row.key.padEnd(width)}${number.format(row.redis).padStart(12)}${number.format(row.valkey).padStart(12)}${mark.padStart(10)}`;
  };
  const header = `  ${''.padEnd(width)}${'Redis'.padStart(12)}${'Valkey'.padStart(12)}${'diff'.padStart(10)}`;
  const section = (title: string, list: Row[]) => [
    title,
    ...(list.length ? list.map(line) : ['  (none yet)']),
  ];
  const verdict =
    comparison.differences.length === 0
      ? 'the two pipelines agree exactly'
      : `${comparison.differences.length} rows differ (a consumer may be behind: see below)`;
  return [
    header,
    ...section('per country', comparison.byCountry),
    ...section('per weather', comparison.byWeather),
    line(comparison.total),
    '',
    verdict,
    '',
    'not yet counted',
    `  Kafka → Redis      ${backlog.kafka}`,
    `  RabbitMQ → Valkey  ${backlog.rabbitmq}`,
  ].join('\n');
}
