/**
 * Each server of the local stack, reached with the client library the project uses for it, with the
 * credentials `stack:up` wrote to `.stack/env`. Needs the stack running (`npm test` starts it).
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack, type StackEnv } from '../src/index.ts';
import { ensureKafkaJars } from '../src/install.ts';
import { brokerMetadataVersion } from '../src/servers/kafka.ts';

let settings: StackEnv;

beforeAll(() => {
  settings = localStack().env();
});

describe('Kafka', () => {
  const brokers = () => settings.KAFKA_BROKERS.split(',');
  const user = () => ({ username: settings.KAFKA_SASL_USERNAME, password: settings.KAFKA_SASL_PASSWORD });
  /** A client of the project's library, as it logs in (or not); `once`: no retries, for the refusals. */
  const client = (sasl?: { username: string; password: string }, once = false) =>
    new Kafka({
      clientId: 'stack-test',
      brokers: brokers(),
      ...(sasl ? { sasl: { mechanism: 'scram-sha-512' as const, ...sasl } } : {}),
      logLevel: logLevel.NOTHING,
      ...(once ? { connectionTimeout: 2000, retry: { retries: 0 } } : {}),
    });

  it('is a 4.1 broker by the metadata.version its ApiVersions reports', async () => {
    await ensureKafkaJars(() => {});
    expect(await brokerMetadataVersion(settings.KAFKA_BROKERS, user())).toMatch(/^4\.1-IV\d+$/);
  }, 30_000);

  it('takes a record from an idempotent producer and hands it to a consumer group', async () => {
    const kafka = client(user());
    const topic = `stack-test-${randomUUID()}`;
    const admin = kafka.admin();
    await admin.connect();
    // Not waitForLeaders: kafkajs gives up when a fresh broker still calls the new topic unknown; the producer
    // below retries that until the partition has its leader.
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: false });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: `${topic}-group` });
    try {
      await producer.connect();
      const value = `hello ${randomUUID()}`;
      const [ack] = await producer.send({ topic, acks: -1, messages: [{ key: 'GT', value }] });
      expect(ack?.errorCode).toBe(0);

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
      });
      expect(await received).toBe(value);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] });
      await admin.disconnect();
    }
  }, 60_000);

  it('requires SASL/SCRAM-SHA-512: the env file names the mechanism and a generated password', () => {
    expect(settings.KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
    expect(settings.KAFKA_SASL_USERNAME).toBe('tandem');
    expect(settings.KAFKA_SASL_PASSWORD).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('refuses a client that does not log in: it cannot even read metadata, let alone write', async () => {
    const anonymous = client(undefined, true);
    const admin = anonymous.admin();
    // The broker answers ApiVersions before authentication and closes the connection at the first other request.
    await expect(admin.connect().then(() => admin.listTopics())).rejects.toThrow(/Closed connection/);
    await admin.disconnect();
    const producer = anonymous.producer();
    await expect(
      producer.connect().then(() => producer.send({ topic: 'message', messages: [{ value: 'forged' }] })),
    ).rejects.toThrow(/Closed connection/);
    await producer.disconnect();
  }, 30_000);

  it('refuses a wrong password, and the right password under another user name', async () => {
    for (const wrong of [
      { ...user(), password: `${user().password}x` },
      { username: 'intruder', password: user().password },
    ]) {
      const admin = client(wrong, true).admin();
      await expect(admin.connect()).rejects.toMatchObject({
        name: 'KafkaJSSASLAuthenticationError',
        message: expect.stringMatching(/SASL SCRAM SHA512 authentication failed/),
      });
      await admin.disconnect();
    }
  }, 30_000);
});

describe('RabbitMQ', () => {
  it('is the Debian RabbitMQ server and confirms a persistent message that a consumer then receives', async () => {
    const connection = await amqp.connect(settings.RABBITMQ_URL);
    try {
      expect(connection.connection.serverProperties.product).toBe('RabbitMQ');
      expect(connection.connection.serverProperties.version).toMatch(/^3\.\d+\.\d+$/);
      const channel = await connection.createConfirmChannel();
      const queue = `stack-test-${randomUUID()}`;
      await channel.assertQueue(queue, { durable: true, autoDelete: true });
      const body = randomUUID();
      channel.sendToQueue(queue, Buffer.from(body), { persistent: true });
      await channel.waitForConfirms();
      const received = new Promise<string>((resolve) => {
        void channel.consume(queue, (message) => {
          if (!message) return;
          channel.ack(message);
          resolve(message.content.toString());
        });
      });
      expect(await received).toBe(body);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it('has no guest user: only the dedicated user gets in', async () => {
    const url = new URL(settings.RABBITMQ_URL);
    expect(url.username).not.toBe('guest');
    url.username = 'guest';
    url.password = 'guest';
    await expect(amqp.connect(url.toString())).rejects.toThrow(/ACCESS_REFUSED|403/);
  });
});

describe.each([
  { name: 'Redis', url: () => settings.REDIS_URL, open: (url: string) => new Redis(url), product: undefined },
  {
    name: 'Valkey',
    url: () => settings.VALKEY_URL,
    open: (url: string) => new Valkey(url),
    product: 'valkey',
  },
])('$name', ({ url, open, product }) => {
  let client: Redis | Valkey;
  beforeAll(() => {
    client = open(url());
  });
  afterAll(() => client.disconnect());

  it('writes and reads back a value', async () => {
    const key = `stack-test:${randomUUID()}`;
    await client.set(key, 'Lluvioso', 'EX', 60);
    expect(await client.get(key)).toBe('Lluvioso');
    await client.del(key);
  });

  it('is the server it claims to be (INFO server)', async () => {
    const info = await client.info('server');
    const serverName = /^server_name:(\S+)/m.exec(info)?.[1];
    expect(serverName).toBe(product);
    if (product === 'valkey') expect(info).toMatch(/^valkey_version:8\./m);
    else expect(info).toMatch(/^redis_version:\d+\./m);
  });

  it('refuses a client without the password', async () => {
    const { port } = new URL(url());
    const anonymous = open(`redis://127.0.0.1:${port}`);
    anonymous.on('error', () => {});
    try {
      await expect(anonymous.get('anything')).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });
});

describe('Redis and Valkey', () => {
  it('are distinct servers on their own ports', async () => {
    const redis = new Redis(settings.REDIS_URL);
    const valkey = new Valkey(settings.VALKEY_URL);
    try {
      expect(new URL(settings.REDIS_URL).port).toBe('6379');
      expect(new URL(settings.VALKEY_URL).port).toBe('6380');
      const key = `stack-test:${randomUUID()}`;
      await redis.set(key, 'only in redis', 'EX', 60);
      expect(await valkey.exists(key)).toBe(0);
      await redis.del(key);
      const [redisId, valkeyId] = await Promise.all([redis.info('server'), valkey.info('server')]).then(
        (infos) => infos.map((info) => /^run_id:(\S+)/m.exec(info)?.[1]),
      );
      expect(redisId).toBeDefined();
      expect(redisId).not.toBe(valkeyId);
    } finally {
      redis.disconnect();
      valkey.disconnect();
    }
  });
});
