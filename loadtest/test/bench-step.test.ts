import type { LatencySnapshot } from '@tandem/consumer';
import { describe, expect, it } from 'vitest';
import { climb, settingNotes } from '../src/bench/run.ts';
import {
  checkExact,
  collectUsage,
  describeStep,
  pipelineStep,
  saturation,
  stepResult,
  untilNothingHeld,
  waitForDrain,
  watchBacklog,
} from '../src/bench/step.ts';
import type { PipelineStep, StepResult } from '../src/report.ts';
import type { AttackResult } from '../src/vegeta.ts';

const latency = (p50: number, p99: number): LatencySnapshot =>
  ({
    count: 10,
    mean: p50,
    p50,
    p90: p99,
    p95: p99,
    p99,
    p999: p99,
    max: p99,
    histogram: 'HIST',
  }) as LatencySnapshot;

const zero = { redis: 0, valkey: 0 };

describe('checkExact', () => {
  it('holds when each store grew by every accepted message, and at most the unresolved ones more', () => {
    expect(checkExact({ redis: 10, valkey: 20 }, { redis: 110, valkey: 122 }, 100, 2)).toEqual({
      ok: true,
      accepted: 100,
      unresolved: 2,
      redis: 100,
      valkey: 102,
    });
  });
  it('fails on a message missing, or counted twice', () => {
    expect(checkExact(zero, { redis: 99, valkey: 100 }, 100, 0).ok).toBe(false);
    expect(checkExact(zero, { redis: 100, valkey: 101 }, 100, 0).ok).toBe(false);
  });
});

describe('untilNothingHeld', () => {
  it('waits until nothing is held twice in a row, not at the first empty reading', async () => {
    // A gathering can look like nothing between two readings: one 0 alone is not enough.
    const seen = [5, 3, 0, 2, 0, 0, 7];
    let reads = 0;
    const held = await untilNothingHeld(async () => seen[reads++] ?? 0, { timeoutMs: 5000, pollMs: 10 });
    expect(held).toBe(0);
    expect(reads).toBe(6);
  });

  it('gives up after the timeout while messages are still held, with what was held last', async () => {
    const started = Date.now();
    const held = await untilNothingHeld(async () => Number.POSITIVE_INFINITY, { timeoutMs: 100, pollMs: 10 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(held).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('pipelineStep', () => {
  it("keeps the histogram's summary and the backlog's largest and mean values", () => {
    const step = pipelineStep({
      latency: latency(2, 9),
      backlog: [0, 4, 2],
      countedPerSecond: 99.5,
      drainSeconds: 0.3,
      counted: 1000,
    });
    expect(step).toEqual<PipelineStep>({
      e2e: { count: 10, mean: 2, p50: 2, p90: 9, p95: 9, p99: 9, p999: 9, max: 9, histogram: 'HIST' },
      countedPerSecond: 99.5,
      backlogMax: 4,
      backlogMean: 2,
      drainSeconds: 0.3,
      counted: 1000,
    });
  });
  it('has no backlog figures when no value could be read', () => {
    const step = pipelineStep({
      latency: latency(1, 1),
      backlog: [],
      countedPerSecond: 0,
      drainSeconds: null,
      counted: 0,
    });
    expect(step.backlogMax).toBeNaN();
    expect(step.backlogMean).toBeNaN();
  });
});

describe('saturation', () => {
  it('names the first reason the ladder stops: too little accepted, too many errors, not drained', () => {
    expect(saturation(100, 89, 0.5, [null], 60_000)).toBe('accepted 89 of 100 msg/s');
    expect(saturation(100, 95, 0.051, [null], 60_000)).toBe('5.1 % errors');
    expect(saturation(100, 95, 0.05, [1, null], 60_000)).toBe('not drained within 60s');
    expect(saturation(100, 90, 0, [1, 0], 60_000)).toBeNull();
  });
});

describe('stepResult', () => {
  // 50 msg/s for 10 s offered: 500 requests; 495 sent (5 not sent in time), 490 answered 202, 5 with no answer.
  const summary: AttackResult = {
    requests: 495,
    sentRate: 49.5,
    statusCodes: { '202': 490, '0': 5 },
    latencyMs: { mean: 5, p50: 4, p90: 8, p95: 9, p99: 12, max: 40 },
    seconds: 10.2,
    errors: ['connection reset by peer'],
  };
  const pipeline = (drainSeconds: number | null) =>
    pipelineStep({ latency: latency(2, 9), backlog: [1], countedPerSecond: 50, drainSeconds, counted: 500 });
  const usage = {
    processes: { 'edge-api': { cpuCores: 0.3, rssMaxMb: 200, hwmMb: 210 } },
    machine: { cores: 2, busyCores: 1.2, otherCores: 0.1, loadAverage1m: 1.5 },
  };
  const result = (drain: number | null) =>
    stepResult({
      plan: { rate: 50, seconds: 10, repeat: 1, index: 1 },
      summary,
      batchSize: 1,
      pipelines: { 'kafka-redis': pipeline(0.2), 'rabbitmq-valkey': pipeline(drain) },
      exact: checkExact(zero, { redis: 500, valkey: 500 }, 500, 0),
      usage,
      drainTimeoutMs: 30_000,
    });

  it("assembles the report's step from vegeta's result, the pipelines and the usage, in the report's key order", () => {
    const r = result(0.4);
    expect(Object.keys(r)).toEqual([
      'repeat',
      'rate',
      'durationSeconds',
      'achievedRate',
      'requests',
      'errorRate',
      'errors',
      'dropped',
      'http',
      'pipelines',
      'exact',
      'processes',
      'machine',
      'saturated',
    ]);
    expect(r).toMatchObject({
      achievedRate: 49,
      requests: 495,
      errorRate: 5 / 495,
      errors: { byStatus: { '0': 5 }, texts: ['connection reset by peer'] },
      dropped: 5,
      http: { mean: 5, p50: 4, p90: 8, p95: 9, p99: 12, max: 40 },
      saturated: null,
    });
    expect(result(null).saturated).toBe('not drained within 30s');
  });

  it('counts a batch request as its messages: rates are in messages per second', () => {
    const batch = stepResult({
      plan: { rate: 1000, seconds: 10, repeat: 1, index: 1 },
      summary: { ...summary, requests: 100, statusCodes: { '202': 100 } },
      batchSize: 100,
      pipelines: { 'kafka-redis': pipeline(0.2), 'rabbitmq-valkey': pipeline(0.2) },
      exact: checkExact(zero, { redis: 10_000, valkey: 10_000 }, 10_000, 0),
      usage,
      drainTimeoutMs: 30_000,
    });
    expect(batch).toMatchObject({
      achievedRate: 1000,
      requests: 100,
      errorRate: 0,
      errors: { byStatus: {} },
      dropped: 0,
      saturated: null,
    });
  });

  it('describes itself in one progress line', () => {
    expect(describeStep('[1/6] 50 msg/s', result(null))).toBe(
      '  [1/6] 50 msg/s: accepted 49.0/s, errors 1.01 % (no answer × 5), 5 requests not sent in time (the generator fell behind), HTTP p50 4.0 / p99 12.0 ms; e2e Kafka → Redis p50 2 / p99 9 ms, RabbitMQ → Valkey p50 2 / p99 9 ms; ' +
        'drained in 0.2s / never; exact ✓; machine 1.20 of 2 cores busy (0.10 not ours)',
    );
  });
});

describe('waitForDrain', () => {
  it('times each store from the end of the load until it holds every accepted message', async () => {
    const seen = [
      { redis: 60, valkey: 40 },
      { redis: 100, valkey: 80 },
      { redis: 100, valkey: 100 },
    ];
    const drained = await waitForDrain({
      totals: async () => seen.shift() ?? { redis: 100, valkey: 100 },
      before: zero,
      atEnd: { redis: 50, valkey: 0 },
      accepted: 100,
      loadEnded: Date.now(),
      timeoutMs: 5000,
      pollMs: 1,
    });
    expect(seen).toEqual([]);
    expect(drained['kafka-redis']).toBeGreaterThanOrEqual(0);
    expect(drained['rabbitmq-valkey']).toBeGreaterThanOrEqual(drained['kafka-redis'] as number);
  });

  it('gives up after the timeout, leaving the store that never got there at null', async () => {
    const drained = await waitForDrain({
      totals: async () => ({ redis: 100, valkey: 99 }),
      before: zero,
      atEnd: { redis: 100, valkey: 0 },
      accepted: 100,
      loadEnded: Date.now(),
      timeoutMs: 50,
      pollMs: 5,
    });
    expect(drained['kafka-redis']).toBeLessThan(0.05);
    expect(drained['rabbitmq-valkey']).toBeNull();
  });
});

describe('watchBacklog', () => {
  it('reads both pipelines until stopped, leaving out what could not be read', async () => {
    let reads = 0;
    const watch = watchBacklog(
      async (pipeline) => {
        reads += 1;
        return pipeline === 'kafka-redis' ? reads : null;
      },
      () => {},
      5,
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    watch.stop();
    const samples = await watch.samples;
    expect(samples['kafka-redis'].length).toBeGreaterThan(1);
    expect(samples['rabbitmq-valkey']).toEqual([]);
  });
});

describe('collectUsage', () => {
  it("measures the targets while the load runs, and adds the load's own process as it starts", async () => {
    const { result, usage } = await collectUsage([{ name: 'self', pid: process.pid }], async (onStart) => {
      onStart(process.pid);
      return 'done';
    });
    expect(result).toBe('done');
    expect(Object.keys(usage.processes).sort()).toEqual(['self', 'vegeta']);
    expect(usage.machine.cores).toBeGreaterThan(0);
  });
});

describe('climb', () => {
  const stepAt = (saturatedAbove: number) => async (plan: { rate: number; repeat: number; index: number }) =>
    ({
      rate: plan.rate,
      repeat: plan.repeat,
      index: plan.index,
      saturated: plan.rate >= saturatedAbove ? 'too much' : null,
    }) as unknown as StepResult;

  it('runs every rate of every repeat, numbering the steps in order', async () => {
    const steps = await climb({ rates: [10, 20], repeats: 2, durationSeconds: 5 }, stepAt(Infinity));
    expect(steps.map((s) => [s.repeat, s.rate, (s as unknown as { index: number }).index])).toEqual([
      [1, 10, 1],
      [1, 20, 2],
      [2, 10, 3],
      [2, 20, 4],
    ]);
  });

  it('ends a repeat at its first saturated rate; the skipped rates keep their numbers', async () => {
    const steps = await climb({ rates: [10, 20, 30], repeats: 2, durationSeconds: 5 }, stepAt(20));
    expect(steps.map((s) => [s.repeat, s.rate, (s as unknown as { index: number }).index])).toEqual([
      [1, 10, 1],
      [1, 20, 2],
      [2, 10, 4],
      [2, 20, 5],
    ]);
  });
});

describe('settingNotes', () => {
  it('says when the run had two replicas or the HTTP/JSON transport, and nothing otherwise', () => {
    expect(settingNotes({ replicas: 1, ingest: 'grpc' })).toEqual([]);
    expect(settingNotes({ replicas: 2, ingest: 'grpc' })[0]).toMatch(/^Two edges/);
    expect(settingNotes({ replicas: 1, ingest: 'http' })[0]).toMatch(/plain HTTP\/1.1 with JSON/);
  });
});
