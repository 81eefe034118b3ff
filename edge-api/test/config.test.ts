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
    ['grpc-ingest.tandem.svc.cluster.local:50051', 'gRPC'],
    ['10.0.0.7:50051', 'gRPC'],
    ['http://127.0.0.1:50052', 'HTTP/JSON'],
    ['http://grpc-ingest:50052', 'HTTP/JSON'],
  ])('takes INGEST_ADDR=%s (%s)', (address) => {
    expect(loadConfig({ INGEST_ADDR: address }).INGEST_ADDR).toBe(address);
  });

  it('says which forms INGEST_ADDR takes', () => {
    expect(() => loadConfig({ INGEST_ADDR: 'https://x:1' })).toThrow(
      'INGEST_ADDR: must be host:port (gRPC) or http://host:port (HTTP/JSON)',
    );
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['INGEST_ADDR', 'grpc-ingest'],
    ['INGEST_ADDR', 'https://grpc-ingest:50052'],
    ['INGEST_ADDR', 'http://grpc-ingest:50052/path'],
    ['INGEST_ADDR', 'http://grpc-ingest:50052/'],
    ['INGEST_ADDR', 'http://grpc-ingest'],
    ['INGEST_ADDR', 'dns:///grpc-ingest:50051'],
    ['LOG_LEVEL', 'loud'],
    ['INGEST_DEADLINE_MS', '0'],
    ['MAX_IN_FLIGHT', '-1'],
    ['MAX_IN_FLIGHT', '1.5'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});
