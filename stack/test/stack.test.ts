import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionSettings, writeStackEnv } from '../src/env.ts';
import { localStack, stackVariables } from '../src/index.ts';
import { findMirror, kafkaVersion } from '../src/install.ts';
import { stackLocation, stackLocationFromEnv } from '../src/paths.ts';
import { loadOrCreateSecrets } from '../src/secrets.ts';
import { kafka } from '../src/servers/kafka.ts';
import { rabbitmq } from '../src/servers/rabbitmq.ts';
import { redis, valkey } from '../src/servers/resp.ts';

const deb822 = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;

describe('findMirror', () => {
  it('finds the deb822 source whose suite is the release itself', () => {
    expect(findMirror(deb822, 'bookworm')).toEqual({
      uri: 'http://mirror.example/debian',
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
  });

  it('reads one-line sources.list entries, with options', () => {
    const list = '# comment\ndeb [signed-by=/k.gpg arch=amd64] http://m.example/debian bookworm main\n';
    expect(findMirror(list, 'bookworm')).toEqual({ uri: 'http://m.example/debian', signedBy: '/k.gpg' });
    expect(findMirror('deb http://m.example/debian bookworm main contrib', 'bookworm')).toEqual({
      uri: 'http://m.example/debian',
    });
  });

  it('does not take a security or updates suite for the release', () => {
    expect(
      findMirror('deb http://m.example/debian-security bookworm-security main', 'bookworm'),
    ).toBeUndefined();
    expect(findMirror(deb822, 'trixie')).toBeUndefined();
  });
});

describe('secrets and .stack/env', () => {
  it('generates passwords once and keeps them private', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tandem-stack-')), 'secrets.json');
    const first = loadOrCreateSecrets(path);
    expect(first.redisPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(first.kafkaUser).toBe('tandem');
    expect(
      new Set([first.redisPassword, first.valkeyPassword, first.rabbitmqPassword, first.kafkaPassword]).size,
    ).toBe(4);
    expect(loadOrCreateSecrets(path)).toEqual(first);
    expect(statSync(path).mode & 0o077).toBe(0);
  });

  it('adds a secret that a file from an older stack lacks, keeping every password it has', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tandem-stack-')), 'secrets.json');
    const older = { rabbitmqUser: 'tandem', rabbitmqPassword: 'r', redisPassword: 's', valkeyPassword: 'v' };
    writeFileSync(path, JSON.stringify(older), { mode: 0o600 });
    const secrets = loadOrCreateSecrets(path);
    expect(secrets).toMatchObject(older);
    expect(secrets.kafkaUser).toBe('tandem');
    expect(secrets.kafkaPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(secrets);
    expect(loadOrCreateSecrets(path)).toEqual(secrets);
    expect(statSync(path).mode & 0o077).toBe(0);
  });

  it('writes the connection settings: Kafka with its SCRAM login, redis:// with the default user for both RESP servers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-stack-'));
    const secrets = loadOrCreateSecrets(join(dir, 'secrets.json'));
    const location = stackLocation(dir);
    const servers = [kafka(location), rabbitmq(location), redis(location), valkey(location)];
    writeStackEnv(connectionSettings(secrets, servers), join(dir, 'env'));
    const text = readFileSync(join(dir, 'env'), 'utf8');
    expect(text).toContain('KAFKA_BROKERS=127.0.0.1:9092\n');
    expect(text).toContain('KAFKA_SASL_MECHANISM=scram-sha-512\n');
    expect(text).toContain('KAFKA_SASL_USERNAME=tandem\n');
    expect(text).toContain(`KAFKA_SASL_PASSWORD=${secrets.kafkaPassword}\n`);
    expect(text).toContain(`RABBITMQ_URL=amqp://tandem:${secrets.rabbitmqPassword}@127.0.0.1:5672\n`);
    expect(text).toContain(`REDIS_URL=redis://default:${secrets.redisPassword}@127.0.0.1:6379\n`);
    expect(text).toContain(`VALKEY_URL=redis://default:${secrets.valkeyPassword}@127.0.0.1:6380\n`);
    expect(Object.keys(connectionSettings(secrets, servers))).toEqual([...stackVariables]);
    expect(statSync(join(dir, 'env')).mode & 0o077).toBe(0);
  });

  it("refuses Kafka credentials that do not fit Kafka's config syntax unquoted", () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-stack-'));
    const secrets = { ...loadOrCreateSecrets(join(dir, 'secrets.json')), kafkaPassword: 'a",b' };
    expect(() => kafka(stackLocation(dir)).connection(secrets)).toThrow(/kafkaPassword .* letters, digits/);
  });

  it('pins a Kafka 4.1.x release in the pom', () => {
    expect(kafkaVersion()).toMatch(/^4\.1\.\d+$/);
  });
});

describe("a stack's location", () => {
  it('shifts every port of a private stack and names its own env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-stack-'));
    const location = stackLocation(dir, 1000);
    const servers = [kafka(location), rabbitmq(location), redis(location), valkey(location)];
    expect(servers.map((server) => server.ports)).toEqual([[10092, 10093], [6672, 26672], [7379], [7380]]);
    const settings = connectionSettings(loadOrCreateSecrets(join(dir, 'secrets.json')), servers);
    expect(settings.KAFKA_BROKERS).toBe('127.0.0.1:10092');
    expect(new URL(settings.VALKEY_URL as string).port).toBe('7380');
    expect(localStack({ dir, portOffset: 1000 }).envFile).toBe(join(dir, 'env'));
  });

  it('says which command brings a stack up when its env file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-stack-'));
    expect(() => localStack({ dir }).env()).toThrow(
      `no ${join(dir, 'env')}: bring the stack in ${dir} up first`,
    );
    writeFileSync(join(dir, 'env'), 'KAFKA_BROKERS=127.0.0.1:9092\n');
    expect(() => localStack({ dir }).env()).toThrow(
      'has no KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, RABBITMQ_URL, REDIS_URL, VALKEY_URL',
    );
  });

  it('refuses a port offset that is not a whole number in range', () => {
    expect(() => stackLocationFromEnv({ STACK_PORT_OFFSET: '12x' })).toThrow(/STACK_PORT_OFFSET/);
    expect(() => stackLocation('/tmp', 40_000)).toThrow(/0 to 30000/);
  });
});
