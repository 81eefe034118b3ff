import { rabbitSubscriberDefaults } from '@tandem/brokers';
import { parseConfig } from '@tandem/config';
import { DEFAULT_DEDUP_TTL_SECONDS } from '@tandem/counting';
import { describe, expect, it } from 'vitest';
import { configSchema, deadLetterQueue } from '../src/config.ts';

const required = { RABBITMQ_URL: 'amqp://u:p@127.0.0.1:5672', VALKEY_URL: 'redis://:pw@127.0.0.1:6380' };

describe('rabbit-consumer config', () => {
  it('defaults to the design names and ports', () => {
    expect(parseConfig(configSchema, required)).toMatchObject({
      RABBITMQ_QUEUE: 'message',
      DEDUP_TTL_SECONDS: DEFAULT_DEDUP_TTL_SECONDS,
      METRICS_PORT: 9466,
    });
  });

  it("batches as the subscriber does by default: its defaults are the config's, 500 messages or 5 ms", () => {
    const config = parseConfig(configSchema, required);
    expect([config.BATCH_MAX, config.BATCH_LINGER_MS]).toEqual([
      rabbitSubscriberDefaults.maxBatch,
      rabbitSubscriberDefaults.lingerMs,
    ]);
    expect([config.BATCH_MAX, config.BATCH_LINGER_MS]).toEqual([500, 5]);
  });

  it.each([
    ['VALKEY_URL', 'valkey://127.0.0.1'],
    ['RABBITMQ_URL', 'http://127.0.0.1'],
    ['BATCH_LINGER_MS', '-1'],
  ])('names %s when it is bad', (name, value) => {
    expect(() => parseConfig(configSchema, { ...required, [name]: value })).toThrow(
      new RegExp(`  ${name}: `),
    );
  });

  it('dead-letters to <RABBITMQ_QUEUE>.dlq unless RABBITMQ_DLQ_QUEUE names another', () => {
    expect(deadLetterQueue(parseConfig(configSchema, required))).toBe('message.dlq');
    expect(deadLetterQueue(parseConfig(configSchema, { ...required, RABBITMQ_QUEUE: 'weather' }))).toBe(
      'weather.dlq',
    );
    expect(deadLetterQueue(parseConfig(configSchema, { ...required, RABBITMQ_DLQ_QUEUE: 'poison' }))).toBe(
      'poison',
    );
  });
});
