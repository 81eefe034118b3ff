import { describe, expect, it } from 'vitest';
import { gaugeValue } from '../src/consumers.ts';

const text = `# HELP consumer_backlog Messages published but not yet acknowledged
# TYPE consumer_backlog gauge
consumer_backlog{pipeline="kafka-redis"} 12
consumer_backlog{pipeline="rabbitmq-valkey"} NaN
consumer_backlog_other{pipeline="kafka-redis"} 99
# TYPE nodejs_heap_size_used_bytes gauge
nodejs_heap_size_used_bytes 22941424
`;

describe('gaugeValue', () => {
  it('reads one labelled value from Prometheus text', () => {
    expect(gaugeValue(text, 'consumer_backlog', { pipeline: 'kafka-redis' })).toBe(12);
  });

  it('reads a series without labels', () => {
    expect(gaugeValue(text, 'nodejs_heap_size_used_bytes', {})).toBe(22941424);
  });

  it('is null for NaN and for a missing series', () => {
    expect(gaugeValue(text, 'consumer_backlog', { pipeline: 'rabbitmq-valkey' })).toBeNull();
    expect(gaugeValue(text, 'consumer_backlog', { pipeline: 'other' })).toBeNull();
  });
});
