import { kafkaSubscriberDefaults } from '@tandem/brokers';
import { parseConfig } from '@tandem/config';
import { DEFAULT_DEDUP_TTL_SECONDS } from '@tandem/counting';
import { describe, expect, it } from 'vitest';
import { configSchema, deadLetterTopic } from '../src/config.ts';

const required = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://:pw@127.0.0.1:6379' };

describe('kafka-consumer config', () => {
  it('defaults to the design names and ports', () => {
    expect(parseConfig(configSchema, required)).toMatchObject({
      KAFKA_TOPIC: 'message',
      KAFKA_GROUP: 'kafka-consumer',
      DEDUP_TTL_SECONDS: DEFAULT_DEDUP_TTL_SECONDS,
      METRICS_PORT: 9465,
      KAFKA_CLIENT: 'platformatic',
    });
  });

  it("takes the subscriber's default batch size, 500", () => {
    const config = parseConfig(configSchema, required);
    expect(config.BATCH_MAX).toBe(kafkaSubscriberDefaults.maxBatch);
    expect(config.BATCH_MAX).toBe(500);
  });

  it("takes the subscriber's fetch defaults, 10 ms for 64 KiB, unless set", () => {
    const config = parseConfig(configSchema, required);
    expect([config.KAFKA_FETCH_MAX_WAIT_MS, config.KAFKA_FETCH_MIN_BYTES]).toEqual([
      kafkaSubscriberDefaults.maxWaitMs,
      kafkaSubscriberDefaults.fetchMinBytes,
    ]);
    expect([config.KAFKA_FETCH_MAX_WAIT_MS, config.KAFKA_FETCH_MIN_BYTES]).toEqual([10, 65536]);
    const set = parseConfig(configSchema, {
      ...required,
      KAFKA_FETCH_MAX_WAIT_MS: '5',
      KAFKA_FETCH_MIN_BYTES: '1',
    });
    expect([set.KAFKA_FETCH_MAX_WAIT_MS, set.KAFKA_FETCH_MIN_BYTES]).toEqual([5, 1]);
  });

  it.each([
    ['REDIS_URL', 'amqp://127.0.0.1'],
    ['KAFKA_BROKERS', 'nohostport'],
    ['DEDUP_TTL_SECONDS', '0'],
    ['BATCH_MAX', 'many'],
    ['KAFKA_FETCH_MAX_WAIT_MS', '-1'],
    ['KAFKA_FETCH_MIN_BYTES', '0'],
    ['KAFKA_CLIENT', 'rdkafka'],
  ])('names %s when it is bad', (name, value) => {
    expect(() => parseConfig(configSchema, { ...required, [name]: value })).toThrow(
      new RegExp(`  ${name}: `),
    );
  });

  it('dead-letters to <KAFKA_TOPIC>.dlq unless KAFKA_DLQ_TOPIC names another', () => {
    expect(deadLetterTopic(parseConfig(configSchema, required))).toBe('message.dlq');
    expect(deadLetterTopic(parseConfig(configSchema, { ...required, KAFKA_TOPIC: 'weather' }))).toBe(
      'weather.dlq',
    );
    expect(deadLetterTopic(parseConfig(configSchema, { ...required, KAFKA_DLQ_TOPIC: 'poison' }))).toBe(
      'poison',
    );
  });

  it("refuses half of Kafka's SASL/SCRAM login: the schema has kafkaFields and their rule", () => {
    const half = { ...required, KAFKA_SASL_USERNAME: 'tandem' };
    expect(() => parseConfig(configSchema, half)).toThrow(/KAFKA_SASL_PASSWORD: required/);
  });
});
