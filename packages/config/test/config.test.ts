import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  defaultKafkaClient,
  env,
  kafkaClientNames,
  kafkaConnection,
  kafkaConnectionFromEnv,
  kafkaConnectionSchema,
  loadStackEnv,
  parseConfig,
  redact,
  secret,
} from '../src/index.ts';

const schema = z.object({
  PORT: env.port(8080),
  KAFKA_BROKERS: env.hostPorts(),
  REDIS_URL: env.url(['redis:', 'rediss:']),
  DEDUP_TTL_SECONDS: env.positiveInt(604_800),
  LOG_LEVEL: env.logLevel(),
});
const valid = { KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://:secret@127.0.0.1:6379' };

describe('parseConfig', () => {
  it('applies defaults and coerces numbers', () => {
    expect(parseConfig(schema, valid)).toEqual({
      PORT: 8080,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
      REDIS_URL: 'redis://:secret@127.0.0.1:6379',
      DEDUP_TTL_SECONDS: 604_800,
      LOG_LEVEL: 'info',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig(schema, { ...valid, PORT: '', LOG_LEVEL: '' })).toMatchObject({
      PORT: 8080,
      LOG_LEVEL: 'info',
    });
  });

  it('splits a broker list', () => {
    expect(parseConfig(schema, { ...valid, KAFKA_BROKERS: 'a:9092, b:9093' }).KAFKA_BROKERS).toEqual([
      'a:9092',
      'b:9093',
    ]);
  });

  it.each([
    ['PORT', '0'],
    ['PORT', '70000'],
    ['PORT', 'eighty'],
    ['DEDUP_TTL_SECONDS', '-5'],
    ['DEDUP_TTL_SECONDS', '1.5'],
    ['KAFKA_BROKERS', 'localhost'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['REDIS_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
  ])('rejects %s=%s naming the variable', (name, value) => {
    expect(() => parseConfig(schema, { ...valid, [name]: value })).toThrow(
      new RegExp(`^invalid configuration:\\n  ${name}: `),
    );
  });

  it('reports every bad variable at once, and a missing one as not set', () => {
    const error = (() => {
      try {
        parseConfig(schema, { PORT: 'x' });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT: .*\(got "x"\)/);
    expect(message).toMatch(/KAFKA_BROKERS: required \(not set\)/);
    expect(message).toMatch(/REDIS_URL: required \(not set\)/);
  });

  it('never shows a password in an error', () => {
    expect(() => parseConfig(schema, { ...valid, REDIS_URL: 'http://:hunter2@host:1' })).toThrow(
      /got "http:\/\/:\*\*\*@host:1"/,
    );
  });

  it('never shows the value of a variable marked secret', () => {
    const keys = z.object({
      API_KEYS: secret(z.string().refine((value) => value.length >= 16, 'each key needs 16 characters')),
    });
    expect(() => parseConfig(keys, { API_KEYS: 'hunter2' })).toThrow(
      /^invalid configuration:\n {2}API_KEYS: each key needs 16 characters \(its value is secret and not shown\)$/,
    );
    expect(() => parseConfig(keys, {})).toThrow(/API_KEYS: .*\(not set\)/);
  });
});

describe('the Kafka connection variables', () => {
  const brokers = { KAFKA_BROKERS: '127.0.0.1:9092' };
  const sasl = { KAFKA_SASL_USERNAME: 'tandem', KAFKA_SASL_PASSWORD: 'pa ss=w,rd' };

  it('without credentials: brokers only, no SASL', () => {
    expect(kafkaConnectionFromEnv(brokers)).toEqual({ brokers: ['127.0.0.1:9092'] });
    expect(kafkaConnectionFromEnv({ ...brokers, KAFKA_SASL_USERNAME: '', KAFKA_SASL_PASSWORD: '' })).toEqual({
      brokers: ['127.0.0.1:9092'],
    });
  });

  it('with a user name and password: SCRAM-SHA-512 unless the mechanism says otherwise', () => {
    expect(kafkaConnectionFromEnv({ ...brokers, ...sasl })).toEqual({
      brokers: ['127.0.0.1:9092'],
      sasl: { mechanism: 'scram-sha-512', username: 'tandem', password: 'pa ss=w,rd' },
    });
    const config = parseConfig(kafkaConnectionSchema, {
      ...brokers,
      ...sasl,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-256',
    });
    expect(kafkaConnection(config).sasl?.mechanism).toBe('scram-sha-256');
  });

  it.each([
    [{ KAFKA_SASL_USERNAME: 'tandem' }, /KAFKA_SASL_PASSWORD: required with KAFKA_SASL_USERNAME \(not set\)/],
    [
      { KAFKA_SASL_PASSWORD: 'hunter2-hunter2' },
      /KAFKA_SASL_USERNAME: required with KAFKA_SASL_PASSWORD \(not set\)/,
    ],
    [{ ...sasl, KAFKA_SASL_MECHANISM: 'plain' }, /KAFKA_SASL_MECHANISM: .*\(got "plain"\)/],
  ])('refuses half a configuration or an unknown mechanism: %o', (variables, message) => {
    expect(() => kafkaConnectionFromEnv({ ...brokers, ...variables })).toThrow(message);
  });

  it('KAFKA_CLIENT picks the client library: platformatic unless set, kafkajs, any case', () => {
    expect(parseConfig(kafkaConnectionSchema, brokers).KAFKA_CLIENT).toBe(defaultKafkaClient);
    expect(defaultKafkaClient).toBe('platformatic');
    expect(parseConfig(kafkaConnectionSchema, { ...brokers, KAFKA_CLIENT: '' }).KAFKA_CLIENT).toBe(
      'platformatic',
    );
    expect(parseConfig(kafkaConnectionSchema, { ...brokers, KAFKA_CLIENT: ' KafkaJS ' }).KAFKA_CLIENT).toBe(
      'kafkajs',
    );
    expect(kafkaClientNames).toEqual(['kafkajs', 'platformatic']);
  });

  it('refuses an unknown KAFKA_CLIENT, naming the variable, the choices and the value', () => {
    expect(() => parseConfig(kafkaConnectionSchema, { ...brokers, KAFKA_CLIENT: 'rdkafka' })).toThrow(
      /KAFKA_CLIENT: must be one of kafkajs, platformatic \(got "rdkafka"\)/,
    );
  });

  it('never shows the password in an error', () => {
    const wrong = { ...brokers, ...sasl, KAFKA_SASL_MECHANISM: 'md5', KAFKA_BROKERS: 'nohost' };
    const message = (() => {
      try {
        kafkaConnectionFromEnv(wrong);
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/KAFKA_SASL_MECHANISM: /);
    expect(message).not.toContain(sasl.KAFKA_SASL_PASSWORD);
  });
});

describe('redact', () => {
  it.each([
    ['redis://:pw@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['redis://default:pw@127.0.0.1:6379', 'redis://default:***@127.0.0.1:6379'],
    ['amqp://tandem:p%40ss@127.0.0.1:5672', 'amqp://tandem:***@127.0.0.1:5672'],
    ['127.0.0.1:9092', '127.0.0.1:9092'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
  ])('%s → %s', (input, output) => {
    expect(redact(input)).toBe(output);
  });
});

describe('loadStackEnv', () => {
  it('reads a dotenv file without overriding variables already set', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tandem-config-')), 'env');
    writeFileSync(file, '# comment\nKAFKA_BROKERS=127.0.0.1:9092\nREDIS_URL=redis://:a@127.0.0.1:6379\n');
    const target: NodeJS.ProcessEnv = { REDIS_URL: 'redis://:mine@h:1' };
    expect(loadStackEnv(file, target)).toBe(true);
    expect(target).toEqual({ KAFKA_BROKERS: '127.0.0.1:9092', REDIS_URL: 'redis://:mine@h:1' });
  });

  it('returns false when there is no file', () => {
    expect(loadStackEnv('/nonexistent/tandem/env', {})).toBe(false);
  });
});
