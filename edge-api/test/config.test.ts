import { ConfigError, parseConfig } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';

const loadConfig = (environment: NodeJS.ProcessEnv) => parseConfig(configSchema, environment);

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      PORT: 8080,
      INGEST_ADDR: '127.0.0.1:50051',
      LOG_LEVEL: 'info',
      INGEST_DEADLINE_MS: 5_000,
      MAX_IN_FLIGHT: 2_048,
    });
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '9000',
        INGEST_ADDR: 'grpc-ingest:50051',
        LOG_LEVEL: 'debug',
        INGEST_DEADLINE_MS: '250',
        MAX_IN_FLIGHT: '10',
      }),
    ).toEqual({
      PORT: 9000,
      INGEST_ADDR: 'grpc-ingest:50051',
      LOG_LEVEL: 'debug',
      INGEST_DEADLINE_MS: 250,
      MAX_IN_FLIGHT: 10,
    });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['INGEST_ADDR', 'grpc-ingest'],
    ['INGEST_ADDR', 'http://grpc-ingest:50051'],
    ['LOG_LEVEL', 'loud'],
    ['INGEST_DEADLINE_MS', '0'],
    ['MAX_IN_FLIGHT', '-1'],
    ['MAX_IN_FLIGHT', '1.5'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});
