/**
 * Behaviour under faults, against the four services running as processes on the private stack:
 * - a broker or the ingest down ⇒ `/ready` says 503, and every message is answered 503 with Retry-After at
 *   once (the p99 is measured); once it is back, a retry with the same ids is counted once;
 * - bounded in-flight work: over the edge's limit, 429 with Retry-After at once, never a queue;
 * - poison records produced straight to the topic and the queue go to the dead-letter topic / queue as they came,
 *   are counted in consumer_messages_total{outcome="poison"}, and block nothing behind them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createKafkaPublisher,
  createKafkaSubscriber,
  createRabbitPublisher,
  createRabbitSubscriber,
  type Delivery,
  type Envelope,
  silentLogger,
} from '@tandem/brokers';
import { kafkaConnectionFromEnv } from '@tandem/config';
import { launchSystem, type System } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { eventually, metricValue, percentile, pool, postJson, request } from '../src/http.ts';
import { faultsStack } from '../src/stack.ts';
import { openStores, type StoreView } from '../src/stores.ts';

const stack = faultsStack();
const rows: string[] = [];

let system: System;
let stores: [StoreView, StoreView];

const message = (id: string, country: string) => ({
  id,
  description: `behaviour test ${id}`,
  country,
  weather: 'Nublado',
});

/** Sends each message again (same id) until it gets a 202, as a careful client does. */
async function sendUntilAccepted(edgeUrl: string, ids: readonly string[], country: string): Promise<void> {
  await pool(ids, 16, async (id) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const answer = await postJson(`${edgeUrl}/input`, message(id, country)).catch(() => undefined);
      if (answer?.status === 202) return;
      await sleep(200);
    }
    throw new Error(`${id} not accepted after 100 tries`);
  });
}

async function expectCountedOnce(country: string, ids: readonly string[]): Promise<void> {
  await eventually(
    `${ids.length} counted in both stores`,
    async () => (await Promise.all(stores.map((s) => s.countryCount(country)))).every((n) => n >= ids.length),
    60_000,
  );
  await sleep(500);
  for (const store of stores) {
    expect({ store: store.name, counted: await store.countryCount(country) }).toEqual({
      store: store.name,
      counted: ids.length,
    });
    expect((await store.present(ids)).size).toBe(ids.length);
  }
}

beforeAll(async () => {
  system = await launchSystem({
    stack: stack.env(),
    portBase: 28_180,
    run: 'faults',
    db: 2,
    supervise: true,
    env: { LOG_LEVEL: 'warn' },
  });
  await system.startAll();
  stores = await openStores(system.env);
});

afterAll(async () => {
  await system?.stopAll();
  await Promise.all((stores ?? []).map((s) => s.close()));
  if (rows.length > 0) {
    console.log(
      [
        '',
        '| down        | /ready 503 after | 503s | Retry-After | p50 (ms) | p99 (ms) | max (ms) | /ready 200 after it is back |',
        '| ----------- | ---------------: | ---: | ----------- | -------: | -------: | -------: | --------------------------: |',
        ...rows,
        '',
      ].join('\n'),
    );
  }
});

describe('a broker or the ingest down', () => {
  it.each<[string, 'kafka' | 'rabbitmq' | 'grpc-ingest']>([
    ['KAFKA', 'kafka'],
    ['RABBIT', 'rabbitmq'],
    ['INGEST', 'grpc-ingest'],
  ])(
    '%s down: /ready 503, every message 503 at once with Retry-After; back: the retries counted once',
    async (tag, what) => {
      const country = `DOWN ${tag}`;
      const ids = Array.from({ length: 300 }, (_, i) => `down-${tag.toLowerCase()}-${i}`);
      if (what === 'grpc-ingest') await system.stop('grpc-ingest', 'SIGKILL');
      else await stack.down([what]);
      // Back up even when an assertion below fails, or every later test would run without it.
      let back = false;
      const bringBack = async () => {
        if (back) return;
        back = true;
        if (what === 'grpc-ingest') await system.start('grpc-ingest');
        else await stack.up([what]);
      };
      onTestFinished(bringBack);
      const notReadyMs = await eventually(
        '/ready 503',
        async () => (await request(`${system.edgeUrl}/ready`)).status === 503,
        15_000,
      );

      const answers = await pool(ids, 16, (id) => postJson(`${system.edgeUrl}/input`, message(id, country)));
      const statuses = new Set(answers.map((a) => a.status));
      const retryAfter = new Set(answers.map((a) => a.headers.get('retry-after')));
      const codes = new Set(answers.map((a) => (a.json as { error?: { code?: string } })?.error?.code));
      const latencies = answers.map((a) => a.ms);
      const [p50, p99, max] = [percentile(latencies, 50), percentile(latencies, 99), Math.max(...latencies)];
      expect({ statuses: [...statuses], retryAfter: [...retryAfter], codes: [...codes] }).toEqual({
        statuses: [503],
        retryAfter: ['1'],
        codes: ['ingest_unavailable'],
      });
      expect(p99).toBeLessThan(250);

      await bringBack();
      const readyMs = await eventually(
        '/ready 200',
        async () => (await request(`${system.edgeUrl}/ready`)).status === 200,
        60_000,
      );
      rows.push(
        `| ${what.padEnd(11)} | ${`${(notReadyMs / 1000).toFixed(1)} s`.padStart(16)} | ${String(answers.length).padStart(4)} | ${'1 s'.padEnd(11)} | ${p50.toFixed(1).padStart(8)} | ${p99.toFixed(1).padStart(8)} | ${max.toFixed(1).padStart(8)} | ${`${(readyMs / 1000).toFixed(1)} s`.padStart(27)} |`,
      );
      // Nothing refused was counted; the retries are, once.
      for (const store of stores) expect(await store.countryCount(country)).toBe(0);
      await sendUntilAccepted(system.edgeUrl, ids, country);
      await expectCountedOnce(country, ids);
    },
    180_000,
  );
});

describe('bounded in-flight work', () => {
  it('answers 429 with Retry-After over the limit at once, never queues; the retries are counted once', async () => {
    const small = await launchSystem({
      stack: stack.env(),
      portBase: 28_190,
      run: 'faults',
      db: 3,
      env: { LOG_LEVEL: 'warn', MAX_IN_FLIGHT: '4' },
    });
    try {
      await small.startAll();
      const smallStores = await openStores(small.env);
      try {
        const country = 'OVERLOAD';
        const ids = Array.from({ length: 400 }, (_, i) => `overload-${i}`);
        const answers = await pool(ids, 400, (id) =>
          postJson(`${small.edgeUrl}/input`, message(id, country)),
        );
        const refused = answers.filter((a) => a.status === 429);
        expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202, 429]));
        expect(refused.length).toBeGreaterThan(0);
        for (const answer of refused) {
          expect(answer.headers.get('retry-after')).toBe('1');
          expect((answer.json as { error: { code: string } }).error.code).toBe('overloaded');
        }
        const p99 = percentile(
          refused.map((a) => a.ms),
          99,
        );
        console.log(`overload: ${refused.length} of 400 concurrent answered 429, p99 ${p99.toFixed(1)} ms`);
        await sendUntilAccepted(small.edgeUrl, ids, country);
        await eventually(
          'all counted',
          async () =>
            (await Promise.all(smallStores.map((s) => s.countryCount(country)))).every(
              (n) => n >= ids.length,
            ),
          60_000,
        );
        await sleep(500);
        for (const store of smallStores) expect(await store.countryCount(country)).toBe(ids.length);
      } finally {
        await Promise.all(smallStores.map((s) => s.close()));
      }
    } finally {
      await small.stopAll();
    }
  }, 180_000);
});

describe('poison records', () => {
  it('go to the dead-letter topic and queue as they came, are counted as poison, and block nothing', async () => {
    const { env } = system;
    /** The private stack's Kafka, logged in as the services are (SASL/SCRAM). */
    const kafkaLogin = kafkaConnectionFromEnv(env);
    const poison: Envelope[] = [
      { id: 'poison-not-json', payload: Buffer.from('this is not JSON') },
      { id: 'poison-empty', payload: Buffer.alloc(0) },
      { id: 'poison-array', payload: Buffer.from('[1,2,3]') },
      {
        id: 'poison-no-time',
        payload: Buffer.from('{"id":"x","description":"d","country":"GT","weather":"Sunny"}'),
      },
      {
        id: 'poison-colon',
        payload: Buffer.from(
          '{"id":"y","description":"d","country":"GT:SV","weather":"Sunny","acceptedAt":1}',
        ),
      },
      { id: 'poison-bad-utf8', payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    ];
    const pipelines = [
      ['kafka-consumer', 'kafka-redis'],
      ['rabbit-consumer', 'rabbitmq-valkey'],
    ] as const;
    const poisonCount = async () =>
      Promise.all(
        pipelines.map(async ([service, pipeline]) =>
          metricValue(
            (await request(`${system.metricsUrl(service)}/metrics`)).text,
            'consumer_messages_total',
            {
              pipeline,
              outcome: 'poison',
            },
          ),
        ),
      );
    const before = await poisonCount();

    const kafka = await createKafkaPublisher({
      ...kafkaLogin,
      topic: env.KAFKA_TOPIC as string,
      clientId: 'faults-poison',
      logger: silentLogger,
    });
    const rabbit = await createRabbitPublisher({
      url: env.RABBITMQ_URL as string,
      queue: env.RABBITMQ_QUEUE as string,
      logger: silentLogger,
    });
    const country = 'POISON CONTROLS';
    const controls = Array.from({ length: 200 }, (_, i) => `poison-control-${i}`);
    try {
      await sendUntilAccepted(system.edgeUrl, controls.slice(0, 100), country);
      await Promise.all([kafka.publish(poison), rabbit.publish(poison)]);
      await sendUntilAccepted(system.edgeUrl, controls.slice(100), country);
    } finally {
      await Promise.all([kafka.close(), rabbit.close()]);
    }
    await expectCountedOnce(country, controls);
    await eventually(
      'poison counted',
      async () => (await poisonCount()).every((n, i) => n - (before[i] ?? 0) === poison.length),
      30_000,
    );

    // What the dead-letter topic and queue hold: exactly the poison records, byte for byte, with their ids.
    const received = { kafka: [] as Delivery[], rabbitmq: [] as Delivery[] };
    const kafkaDlq = await createKafkaSubscriber({
      ...kafkaLogin,
      topic: `${env.KAFKA_TOPIC}.dlq`,
      groupId: `faults-dlq-${Date.now()}`,
      clientId: 'faults-dlq',
      maxWaitMs: 100,
      logger: silentLogger,
    });
    const rabbitDlq = await createRabbitSubscriber({
      url: env.RABBITMQ_URL as string,
      queue: `${env.RABBITMQ_QUEUE}.dlq`,
      logger: silentLogger,
    });
    try {
      await kafkaDlq.start(async (batch) => {
        received.kafka.push(...batch);
      });
      await rabbitDlq.start(async (batch) => {
        received.rabbitmq.push(...batch);
      });
      await eventually(
        'dead letters read',
        async () => received.kafka.length >= poison.length && received.rabbitmq.length >= poison.length,
        30_000,
      );
      await sleep(500);
    } finally {
      await Promise.all([kafkaDlq.close(), rabbitDlq.close()]);
    }
    const sorted = (deliveries: readonly { id: string | undefined; payload: Buffer }[]) =>
      deliveries
        .map(({ id, payload }) => ({ id, payload: payload.toString('hex') }))
        .sort((a, b) => (a.id ?? '').localeCompare(b.id ?? ''));
    expect(sorted(received.kafka)).toEqual(sorted(poison));
    expect(sorted(received.rabbitmq)).toEqual(sorted(poison));
  }, 180_000);
});
