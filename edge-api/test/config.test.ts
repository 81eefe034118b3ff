import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseConfig } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import { apiKeysOf, configSchema, rateLimitOf } from '../src/config.ts';

const loadConfig = (environment: NodeJS.ProcessEnv) => parseConfig(configSchema, environment);

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      PORT: 8080,
      INGEST_ADDR: '127.0.0.1:50051',
      LOG_LEVEL: 'info',
      INGEST_DEADLINE_MS: 5_000,
      MAX_IN_FLIGHT: 2_048,
      EDGE_COALESCE_MAX: 64,
      EDGE_COALESCE_LINGER_MS: 5,
      EDGE_COALESCE_CALLS_OUT: 1,
      EDGE_COALESCE_INTERVAL_MS: 10,
      EDGE_MAX_CONNECTIONS: 1024,
      EDGE_TRUST_PROXY: 0,
    });
  });

  it('has API keys and the rate limit off by default', () => {
    const config = loadConfig({});
    expect(apiKeysOf(config)).toBeUndefined();
    expect(rateLimitOf(config)).toBeUndefined();
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        PORT: '9000',
        INGEST_ADDR: 'grpc-ingest:50051',
        LOG_LEVEL: 'debug',
        INGEST_DEADLINE_MS: '250',
        MAX_IN_FLIGHT: '10',
        EDGE_COALESCE_MAX: '1',
        EDGE_COALESCE_LINGER_MS: '0',
        EDGE_COALESCE_CALLS_OUT: '2',
        EDGE_COALESCE_INTERVAL_MS: '0',
        EDGE_MAX_CONNECTIONS: '50',
      }),
    ).toEqual({
      PORT: 9000,
      INGEST_ADDR: 'grpc-ingest:50051',
      LOG_LEVEL: 'debug',
      INGEST_DEADLINE_MS: 250,
      MAX_IN_FLIGHT: 10,
      EDGE_COALESCE_MAX: 1,
      EDGE_COALESCE_LINGER_MS: 0,
      EDGE_COALESCE_CALLS_OUT: 2,
      EDGE_COALESCE_INTERVAL_MS: 0,
      EDGE_MAX_CONNECTIONS: 50,
      EDGE_TRUST_PROXY: 0,
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
    ['EDGE_COALESCE_MAX', '0'],
    ['EDGE_COALESCE_MAX', '501'],
    ['EDGE_COALESCE_LINGER_MS', '-1'],
    ['EDGE_COALESCE_LINGER_MS', '101'],
    ['EDGE_COALESCE_LINGER_MS', '0.5'],
    ['EDGE_COALESCE_INTERVAL_MS', '-1'],
    ['EDGE_COALESCE_INTERVAL_MS', '1001'],
    ['EDGE_COALESCE_CALLS_OUT', '0'],
    ['EDGE_COALESCE_CALLS_OUT', '65'],
    ['EDGE_COALESCE_CALLS_OUT', 'many'],
    ['EDGE_MAX_CONNECTIONS', '0'],
    ['EDGE_MAX_CONNECTIONS', '65536'],
    ['EDGE_RATE_LIMIT', '0'],
    ['EDGE_RATE_LIMIT', 'fast'],
    ['EDGE_RATE_BURST', '1.5'],
    ['EDGE_TRUST_PROXY', '-1'],
    ['EDGE_TRUST_PROXY', 'yes'],
    ['EDGE_API_KEYS_FILE', '/no/such/file'],
  ])('rejects %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef+/=';

function keyFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'edge-keys-')), 'keys');
  writeFileSync(path, text);
  return path;
}

/** The ConfigError's message for `environment` (and fails if it parses). */
function problem(environment: NodeJS.ProcessEnv): string {
  try {
    loadConfig(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('parsed');
}

describe('API keys', () => {
  it('reads EDGE_API_KEYS, comma-separated, trimmed, duplicates once', () => {
    const config = loadConfig({ EDGE_API_KEYS: ` ${KEY_A}, ${KEY_B} ,${KEY_A},` });
    expect(apiKeysOf(config)).toEqual([KEY_A, KEY_B]);
  });

  it('reads EDGE_API_KEYS_FILE, one key a line, skipping blank lines and # comments', () => {
    const path = keyFile(`# clients\n${KEY_A}\r\n\n  ${KEY_B}  \n`);
    const config = loadConfig({ EDGE_API_KEYS_FILE: path });
    expect(apiKeysOf(config)).toEqual([KEY_A, KEY_B]);
    expect(config.EDGE_API_KEYS_FILE?.path).toBe(path);
  });

  it.each<[string, NodeJS.ProcessEnv, RegExp]>([
    ['an empty EDGE_API_KEYS', { EDGE_API_KEYS: '' }, /EDGE_API_KEYS: holds no key/],
    ['only commas', { EDGE_API_KEYS: ' , ,' }, /EDGE_API_KEYS: holds no key/],
    ['a short key', { EDGE_API_KEYS: `${KEY_A},short-key` }, /EDGE_API_KEYS: key 2 of 2 must be 16\.\.512/],
    ['a key with a space', { EDGE_API_KEYS: 'has a space in it 0123' }, /key 1 of 1 may hold only/],
    ['a key with a quote', { EDGE_API_KEYS: `${KEY_A}"` }, /may hold only/],
    ['a key too long', { EDGE_API_KEYS: 'k'.repeat(513) }, /must be 16\.\.512/],
    ['both variables', { EDGE_API_KEYS: KEY_A, EDGE_API_KEYS_FILE: keyFile(KEY_B) }, /not both/],
  ])('refuses %s, never showing a key', (_name, environment, expected) => {
    const text = problem(environment);
    expect(text).toMatch(expected);
    for (const key of [KEY_A, KEY_B, 'short-key', 'has a space in it']) expect(text).not.toContain(key);
  });

  it('refuses a key file with no key, or a bad key, naming the line and not the key', () => {
    expect(problem({ EDGE_API_KEYS_FILE: keyFile('# none yet\n\n') })).toMatch(
      /EDGE_API_KEYS_FILE: holds no key/,
    );
    const text = problem({ EDGE_API_KEYS_FILE: keyFile(`${KEY_A}\n\nshort-key\n`) });
    expect(text).toMatch(/EDGE_API_KEYS_FILE: the key on line 3 must be 16\.\.512 characters long/);
    expect(text).not.toContain('short-key');
  });
});

describe('rate limit', () => {
  it('reads EDGE_RATE_LIMIT and EDGE_RATE_BURST', () => {
    expect(rateLimitOf(loadConfig({ EDGE_RATE_LIMIT: '50', EDGE_RATE_BURST: '500' }))).toEqual({
      perSecond: 50,
      burst: 500,
    });
  });

  it('defaults the burst to one second of the rate, at least 1', () => {
    expect(rateLimitOf(loadConfig({ EDGE_RATE_LIMIT: '12.5' }))).toEqual({ perSecond: 12.5, burst: 13 });
    expect(rateLimitOf(loadConfig({ EDGE_RATE_LIMIT: '0.2' }))).toEqual({ perSecond: 0.2, burst: 1 });
  });

  it('refuses a burst without a rate', () => {
    expect(problem({ EDGE_RATE_BURST: '10' })).toMatch(/EDGE_RATE_BURST: needs EDGE_RATE_LIMIT/);
  });

  it('reads EDGE_TRUST_PROXY as hops', () => {
    expect(loadConfig({ EDGE_TRUST_PROXY: '2' }).EDGE_TRUST_PROXY).toBe(2);
  });
});
