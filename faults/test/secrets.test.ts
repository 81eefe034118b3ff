/**
 * No secret and no message body in any service's log at info level — through normal traffic, bad input, poison
 * records, a restart of every server (the paths where clients log connection errors, which is where URLs with
 * passwords tend to leak) and services started with wrong passwords (Kafka's SASL/SCRAM one too).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKafkaPublisher, createRabbitPublisher, silentLogger } from '@tandem/brokers';
import { kafkaConnectionFromEnv } from '@tandem/config';
import type { ServerName } from '@tandem/stack';
import { launchSystem, type ServiceName, type System, serviceNames } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pool, postJson } from '../src/http.ts';
import { faultsStack } from '../src/stack.ts';

const stack = faultsStack();
const marker = `body-marker-${randomUUID()}`;
let system: System;
const extraLogs: string[] = [];

/** The passwords in the stack's connection settings, raw and URL-encoded. */
function secrets(): string[] {
  const settings = stack.env();
  const found = new Set<string>();
  for (const name of ['RABBITMQ_URL', 'REDIS_URL', 'VALKEY_URL'] as const) {
    const password = new URL(settings[name]).password;
    if (password.length < 8) throw new Error(`${name} has no real password to look for`);
    found.add(password);
    found.add(decodeURIComponent(password));
  }
  if (settings.KAFKA_SASL_PASSWORD.length < 8)
    throw new Error('KAFKA_SASL_PASSWORD is no real password to look for');
  found.add(settings.KAFKA_SASL_PASSWORD);
  return [...found];
}

async function traffic(count: number, prefix: string): Promise<void> {
  await pool(
    Array.from({ length: count }, (_, i) => `${prefix}-${i}`),
    8,
    async (id) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const answer = await postJson(`${system.edgeUrl}/input`, {
          id,
          description: `${marker} ${id}`,
          country: 'Secretland',
          weather: 'Sunny',
        }).catch(() => undefined);
        if (answer?.status === 202) return;
        await sleep(200);
      }
    },
  );
}

beforeAll(async () => {
  system = await launchSystem({
    stack: stack.env(),
    portBase: 28_380,
    run: 'faults',
    db: 5,
    supervise: true,
    env: { LOG_LEVEL: 'info' },
  });
  await system.startAll();
});

afterAll(async () => {
  await system?.stopAll();
});

describe('the logs at info level', () => {
  it('hold no password and no message body, whatever happened', async () => {
    await traffic(100, 'secret-a');
    // Bad input that carries the marker.
    for (const body of [
      { description: marker, country: 'G7', weather: 'Sunny' },
      { description: marker, country: 'GT', weather: `Hail ${marker}` },
      [{ description: marker, country: 'GT', weather: 'Sunny' }, { id: marker }],
    ]) {
      await postJson(`${system.edgeUrl}/input${Array.isArray(body) ? '/batch' : ''}`, body);
    }
    // Poison records carrying the marker, straight to the topic and the queue.
    const poison = [{ id: 'secret-poison', payload: Buffer.from(`{"description":"${marker}"}`) }];
    const kafka = await createKafkaPublisher({
      ...kafkaConnectionFromEnv(system.env),
      topic: system.env.KAFKA_TOPIC as string,
      clientId: 'faults-secrets',
      logger: silentLogger,
    });
    const rabbit = await createRabbitPublisher({
      url: system.env.RABBITMQ_URL as string,
      queue: system.env.RABBITMQ_QUEUE as string,
      logger: silentLogger,
    });
    await Promise.all([kafka.publish(poison), rabbit.publish(poison)]);
    await Promise.all([kafka.close(), rabbit.close()]);
    // Every server restarted under traffic: the clients' connection errors are logged.
    for (const server of ['rabbitmq', 'redis', 'valkey', 'kafka'] as ServerName[]) {
      const load = traffic(100, `secret-${server}`);
      await stack.down([server]);
      await stack.up([server]);
      await load;
    }
    await sleep(2000);

    // Services given wrong passwords: they must say why they stop without echoing what they were given.
    const wrong = `wrong-password-${randomUUID()}`;
    const broken = await launchSystem({
      stack: stack.env(),
      portBase: 28_390,
      run: 'faults',
      db: 6,
      flush: false,
      env: {
        LOG_LEVEL: 'info',
        RABBITMQ_URL: withPassword(system.env.RABBITMQ_URL as string, wrong),
        VALKEY_URL: withPassword(system.env.VALKEY_URL as string, wrong),
        REDIS_URL: withPassword(system.env.REDIS_URL as string, wrong),
      },
    });
    for (const name of ['rabbit-consumer', 'kafka-consumer', 'grpc-ingest'] as ServiceName[]) {
      await broken.start(name).catch(() => {});
      await broken.stop(name, 'SIGKILL');
      extraLogs.push(...broken.logs(name));
    }
    await broken.stopAll();
    // And a wrong Kafka password, everything else right: the Kafka clients are refused at their first request.
    const wrongKafka = await launchSystem({
      stack: { ...stack.env(), KAFKA_SASL_PASSWORD: wrong },
      portBase: 28_390,
      run: 'faults',
      db: 6,
      flush: false,
      env: { LOG_LEVEL: 'info' },
    });
    for (const name of ['kafka-consumer', 'grpc-ingest'] as ServiceName[]) {
      await wrongKafka.start(name).catch(() => {});
      await wrongKafka.stop(name, 'SIGKILL');
      extraLogs.push(...wrongKafka.logs(name));
    }
    await wrongKafka.stopAll();

    const logs = [...serviceNames.flatMap((name) => system.logs(name)), ...extraLogs];
    // Not vacuous: the services logged at info, and logged the reconnections.
    expect(logs.some((line) => line.includes('"level":30'))).toBe(true);
    expect(logs.some((line) => /rabbitmq connection lost|reconnect/i.test(line))).toBe(true);
    for (const reason of [
      /cannot open the Redis store/,
      /cannot open the Valkey store/,
      /ACCESS_REFUSED/,
      // Either Kafka client: kafkajs says "SASL SCRAM SHA512 authentication failed", @platformatic/kafka "SASL
      // authentication failed." (KAFKA_CLIENT picks).
      /SASL (SCRAM SHA512 )?authentication failed/,
    ]) {
      expect(
        extraLogs.some((line) => reason.test(line)),
        String(reason),
      ).toBe(true);
    }
    for (const secret of [...secrets(), wrong]) {
      expect(logs.filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(logs.filter((line) => line.includes(marker))).toEqual([]);
  }, 300_000);
});

function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}
