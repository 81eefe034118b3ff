/**
 * The bench's load: the bodies it sends, vegeta driving them (open model and closed loop) against the real bare
 * Hono app, and the RabbitMQ reference against the local stack's RabbitMQ.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaAdapters } from '@tandem/brokers';
import { defaultKafkaClient, kafkaConnectionFromEnv, loadStackEnv } from '@tandem/config';
import { parseMessageInput } from '@tandem/message';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestBodies, vegetaTargets, writeVegetaTargets } from '../src/bench/bodies.ts';
import { measureReferences, startBareHono } from '../src/bench/references.ts';
import { brokerLatencyAtRate, confirmLatency, quantile } from '../src/reference/broker-latency.ts';
import { rabbitPublishRate } from '../src/reference/rabbitmq-publish.ts';
import { attack, parseReport, rateArgument, unresolvedRequests } from '../src/vegeta.ts';

describe('the bodies', () => {
  it('are valid, varied messages without ids (the edge gives each a new one)', () => {
    const bodies = requestBodies({ path: 'single', batchSize: 1, count: 300, seed: 7 });
    const messages = bodies.map((b) => JSON.parse(b) as Record<string, unknown>);
    for (const message of messages) {
      expect(parseMessageInput(message).ok).toBe(true);
      expect(message).not.toHaveProperty('id');
    }
    expect(new Set(messages.map((m) => m.country)).size).toBeGreaterThan(8);
    expect(new Set(messages.map((m) => String(m.weather).toLowerCase())).size).toBeGreaterThan(4);
    // The seed makes them reproducible.
    expect(requestBodies({ path: 'single', batchSize: 1, count: 300, seed: 7 })).toEqual(bodies);
  });

  it('are arrays of batchSize valid messages on the batch path', () => {
    const bodies = requestBodies({ path: 'batch', batchSize: 100, count: 3, seed: 7 });
    for (const body of bodies) {
      const batch = JSON.parse(body) as unknown[];
      expect(batch).toHaveLength(100);
      expect(batch.every((m) => parseMessageInput(m).ok)).toBe(true);
    }
  });

  it("become vegeta's JSON targets, rotating over the edges", () => {
    const lines = vegetaTargets({
      path: 'batch',
      batchSize: 2,
      count: 3,
      seed: 1,
      edgeUrls: ['http://a:1', 'http://b:2'],
    })
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { method: string; url: string; body: string; header: object });
    expect(lines.map((t) => t.url)).toEqual([
      'http://a:1/input/batch',
      'http://b:2/input/batch',
      'http://a:1/input/batch',
    ]);
    expect(lines[0]?.method).toBe('POST');
    expect(lines[0]?.header).toEqual({ 'Content-Type': ['application/json'] });
    expect(JSON.parse(Buffer.from(lines[0]?.body ?? '', 'base64').toString('utf8'))).toHaveLength(2);
  });
});

describe('vegeta', () => {
  it('takes whole rates per second and fractions (a slow batch ladder) per 1000 s', () => {
    expect(rateArgument(400)).toBe('400/1s');
    expect(rateArgument(0.5)).toBe('500/1000s');
  });

  it("reads vegeta's JSON report, latencies in ms; no answer or a 5xx leaves a message unresolved", () => {
    const result = parseReport(
      JSON.stringify({
        latencies: { mean: 2e6, '50th': 1e6, '90th': 3e6, '95th': 4e6, '99th': 5e6, max: 9e6 },
        duration: 1e9,
        wait: 2e8,
        requests: 10,
        rate: 10,
        status_codes: { '202': 7, '0': 1, '503': 1, '429': 1 },
        errors: null,
      }),
    );
    expect(result).toMatchObject({
      requests: 10,
      sentRate: 10,
      latencyMs: { mean: 2, p50: 1, p90: 3, p95: 4, p99: 5, max: 9 },
      seconds: 1.2,
      errors: [],
    });
    expect(unresolvedRequests(result)).toBe(2);
  });

  describe('against the real bare Hono app', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-vegeta-'));
    let app: Awaited<ReturnType<typeof startBareHono>>;
    let targetsFile: string;
    beforeAll(async () => {
      app = await startBareHono();
      targetsFile = writeVegetaTargets(join(dir, 'targets'), {
        path: 'single',
        batchSize: 1,
        count: 10,
        seed: 3,
        edgeUrls: [app.url],
      });
    });
    afterAll(async () => {
      await app?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('sends exactly rate × seconds requests in the open model, each answered 202', async () => {
      let pid = 0;
      const result = await attack({
        vegeta: inject('vegeta'),
        targetsFile,
        resultsFile: join(dir, 'open.bin'),
        rate: 50,
        seconds: 2,
        onStart: (p) => {
          pid = p;
        },
      });
      expect(pid).toBeGreaterThan(0);
      expect(result.requests).toBe(100);
      expect(result.statusCodes).toEqual({ '202': 100 });
      expect(result.latencyMs.p50).toBeGreaterThan(0);
    });

    it("runs with the environment it is given (the services' NODE_OPTIONS)", async () => {
      const withOptions = await startBareHono({ NODE_OPTIONS: '--max-semi-space-size=8' });
      try {
        const environ = readFileSync(`/proc/${withOptions.pid}/environ`, 'utf8').split('\0');
        expect(environ).toContain('NODE_OPTIONS=--max-semi-space-size=8');
      } finally {
        await withOptions.stop();
      }
    });

    it('keeps its workers busy in a closed loop', async () => {
      const result = await attack({
        vegeta: inject('vegeta'),
        targetsFile,
        resultsFile: join(dir, 'closed.bin'),
        workers: 4,
        seconds: 1,
      });
      expect(result.requests).toBeGreaterThan(50);
      expect(result.statusCodes['202']).toBe(result.requests);
    });
  });
});

describe('the RabbitMQ reference', () => {
  it('publishes confirmed, persistent messages to a quorum queue of its own, and removes it', async () => {
    loadStackEnv();
    const url = process.env.RABBITMQ_URL as string;
    const result = await rabbitPublishRate({ url, seconds: 1, window: 20 });
    expect(result.messages).toBeGreaterThan(0);
    expect(result.messages % 20).toBe(0);
    expect(result.rate).toBeCloseTo(result.messages / result.seconds);
    expect(result.queue).toMatch(/^tandem-bench-ref-[0-9a-f]{8}$/);
    const connection = await amqp.connect(url);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      await expect(channel.checkQueue(result.queue)).rejects.toThrow(/NOT_FOUND/);
    } finally {
      await connection.close().catch(() => undefined);
    }
  });
});

describe("the brokers' latency reference", () => {
  it('takes nearest-rank quantiles', () => {
    const sorted = Array.from({ length: 200 }, (_, i) => i + 1);
    expect([quantile(sorted, 0.5), quantile(sorted, 0.99), quantile(sorted, 1)]).toEqual([100, 198, 200]);
    expect(quantile([7], 0.99)).toBe(7);
    expect(confirmLatency([3, 1, 2])).toEqual({ p50: 2, p99: 3, max: 3 });
    expect(confirmLatency([]).p50).toBeNaN();
  });

  it("publishes groups on a fixed schedule to both brokers through the ingest's publishers, and removes what it made", async () => {
    loadStackEnv();
    const connection = kafkaConnectionFromEnv();
    const rabbitmqUrl = process.env.RABBITMQ_URL as string;
    const result = await brokerLatencyAtRate({
      kafka: { ...connection, client: defaultKafkaClient, partitions: 2 },
      rabbitmqUrl,
      rate: 400,
      seconds: 1,
      groupEveryMs: 10,
    });
    // 400 msg/s in groups every 10 ms: 100 groups of 4.
    expect(result).toMatchObject({ rate: 400, groupEveryMs: 10, groups: 100, messages: 400 });
    // Below one message per group the groups come less often, so that the rate stays the one asked for.
    const slow = await brokerLatencyAtRate({
      kafka: { ...connection, client: defaultKafkaClient, partitions: 2 },
      rabbitmqUrl,
      rate: 50,
      seconds: 0.4,
    });
    expect(slow).toMatchObject({ rate: 50, groupEveryMs: 20, groups: 20, messages: 20 });
    expect(result.seconds).toBeGreaterThanOrEqual(0.99);
    for (const latency of [result.kafka, result.rabbitmq, result.both]) {
      expect(latency.p50).toBeGreaterThan(0);
      expect(latency.p50).toBeLessThanOrEqual(latency.p99);
      expect(latency.p99).toBeLessThanOrEqual(latency.max);
    }
    // Both is the slower of the two, group by group.
    expect(result.both.max).toBeGreaterThanOrEqual(Math.max(result.kafka.max, result.rabbitmq.max));
    const name = result.resourceName;
    expect(name).toMatch(/^tandem-bench-ref-[0-9a-f]{8}$/);
    const amqpConnection = await amqp.connect(rabbitmqUrl);
    try {
      const channel = await amqpConnection.createChannel();
      channel.on('error', () => {});
      await expect(channel.checkQueue(name)).rejects.toThrow(/NOT_FOUND/);
    } finally {
      await amqpConnection.close().catch(() => undefined);
    }
    const topics = await kafkaAdapters[defaultKafkaClient].removeResources({
      ...connection,
      topics: [name],
      groupIds: [],
    });
    expect(topics.removed).toEqual([]);
  }, 30_000);
});

describe('measureReferences', () => {
  // About 12 s of load (the bare app: a 1 s warm-up, 2 s at each of two rates, 1 s closed loop; 1 s of RabbitMQ; the
  // brokers alone: a 1 s warm-up, 2 s at each rate): past the default 5 s.
  it("measures the bare Hono app at the ladder's rates and closed loop, RabbitMQ alone with its CPU, and both brokers alone at the ladder's rates", async () => {
    loadStackEnv();
    const workDir = mkdtempSync(join(tmpdir(), 'tandem-references-'));
    const said: string[] = [];
    try {
      const references = await measureReferences({
        vegeta: inject('vegeta'),
        workDir,
        seconds: 1,
        connections: 4,
        rabbitmqUrl: process.env.RABBITMQ_URL as string,
        window: 20,
        appEnv: { NODE_OPTIONS: '--max-semi-space-size=8' },
        atRates: { rates: [50, 100], seconds: 2, warmupSeconds: 1, bodies: { count: 10, seed: 1 } },
        kafka: { ...kafkaConnectionFromEnv(), client: defaultKafkaClient, partitions: 2 },
        say: (message) => said.push(message),
      });
      expect(references.bareHonoAtRates).toMatchObject({
        seconds: 2,
        warmupSeconds: 1,
        nodeOptions: '--max-semi-space-size=8',
      });
      // Open model: exactly rate × seconds requests at each rate, every one answered.
      const atRates = references.bareHonoAtRates?.rates ?? [];
      expect(atRates.map((r) => [r.rate, r.requests, r.errors, r.achievedRate])).toEqual([
        [50, 100, 0, 50],
        [100, 200, 0, 100],
      ]);
      for (const r of atRates) {
        expect(Object.keys(r.cpuCores).sort()).toEqual(['bare-hono', 'vegeta']);
        expect(r.cpuMicrosPerRequest).toBeCloseTo(
          ((r.cpuCores['bare-hono'] as number) * 1e6) / r.achievedRate,
        );
        expect(r.http.p99).toBeGreaterThan(0);
      }
      expect(references.bareHono).toMatchObject({ seconds: 1, connections: 4, errors: 0 });
      expect(references.bareHono?.rate).toBeGreaterThan(10);
      expect(Object.keys(references.bareHono?.cpuCores ?? {}).sort()).toEqual(['bare-hono', 'vegeta']);
      expect(references.rabbitmq?.rate).toBeGreaterThan(0);
      expect(references.rabbitmq?.window).toBe(20);
      expect(Object.keys(references.rabbitmq?.cpuCores ?? {})).toEqual(['publisher (amqplib)']);
      // The brokers alone at the same rates, after the same warm-up.
      expect(references.brokersAtRates).toMatchObject({
        seconds: 2,
        warmupSeconds: 1,
        kafkaClient: defaultKafkaClient,
      });
      expect(references.brokersAtRates?.rates.map((r) => [r.rate, r.messages])).toEqual([
        [50, 100],
        [100, 200],
      ]);
      expect(said).toHaveLength(6);
      expect(said[5]).toMatch(
        /^reference: the brokers alone at 100 msg\/s \(groups every 10\.0 ms\): both confirmed p50 /,
      );
      expect(said[0]).toMatch(
        /^reference: the bare Hono app at 50 req\/s: \d+ µs of CPU per request, HTTP p50/,
      );
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, 30_000);
});
