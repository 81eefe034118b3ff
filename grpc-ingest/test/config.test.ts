import { kafkaPublisherDefaults } from '@tandem/brokers';
import { parseConfig } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';

const required = { KAFKA_BROKERS: '127.0.0.1:9092', RABBITMQ_URL: 'amqp://u:p@127.0.0.1:5672' };

describe('grpc-ingest config', () => {
  it('defaults to the design names and ports', () => {
    expect(parseConfig(configSchema, required)).toMatchObject({
      PORT: 50051,
      METRICS_PORT: 9464,
      KAFKA_TOPIC: 'message',
      KAFKA_PARTITIONS: 6,
      RABBITMQ_QUEUE: 'message',
      MAX_IN_FLIGHT: 20_000,
      KAFKA_CLIENT: 'platformatic',
    });
    expect(parseConfig(configSchema, required).HTTP_PORT).toBeUndefined();
  });

  it("publishes as the Kafka publisher does by default: its defaults are the config's, 0 ms and 500", () => {
    const config = parseConfig(configSchema, required);
    expect([config.PUBLISH_LINGER_MS, config.PUBLISH_MAX_BATCH]).toEqual([
      kafkaPublisherDefaults.lingerMs,
      kafkaPublisherDefaults.maxBatch,
    ]);
    expect([config.PUBLISH_LINGER_MS, config.PUBLISH_MAX_BATCH]).toEqual([0, 500]);
    expect(parseConfig(configSchema, { ...required, PUBLISH_LINGER_MS: '' }).PUBLISH_LINGER_MS).toBe(0);
  });

  it.each([
    ['PUBLISH_LINGER_MS', '-1'],
    ['PUBLISH_MAX_BATCH', '0'],
    ['HTTP_PORT', '70000'],
    ['KAFKA_CLIENT', 'rdkafka'],
  ])('names %s when it is bad', (name, value) => {
    expect(() => parseConfig(configSchema, { ...required, [name]: value })).toThrow(
      new RegExp(`  ${name}: `),
    );
  });

  it("refuses half of Kafka's SASL/SCRAM login: the schema has kafkaFields and their rule", () => {
    const half = { ...required, KAFKA_SASL_USERNAME: 'tandem' };
    expect(() => parseConfig(configSchema, half)).toThrow(/KAFKA_SASL_PASSWORD: required/);
  });
});
