/**
 * A store that refuses writes (OOM at maxmemory, READONLY on a replica), with the in-memory broker and store:
 * nothing acknowledged while it refuses, a back-off that grows to its bound, one report per streak, /ready 503
 * meanwhile, and every message counted once when it takes writes again.
 */
import type { AddressInfo } from 'node:net';
import { createMemoryBroker } from '@tandem/brokers';
import { MemoryCountingStore, type WriteRefusal } from '@tandem/counting';
import { encodeMessage, type WeatherMessage } from '@tandem/message';
import { startMetricsServer } from '@tandem/service';
import { register } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createCountingHandler } from '../src/handler.ts';
import { notReadyBecause, readinessRoutes } from '../src/ready.ts';
import { type RefusalLog, StoreWrites } from '../src/store-writes.ts';

const message = (id: string, country = 'GT'): WeatherMessage => ({
  id,
  description: 'Está lloviendo',
  country,
  weather: 'Rainy',
  acceptedAt: 1_000,
});
const envelope = (m: WeatherMessage) => ({ id: m.id, payload: encodeMessage(m) });

/** A log that keeps what it was told. */
function recordingLog(): RefusalLog & { lines: { level: string; fields: object; message: string }[] } {
  const lines: { level: string; fields: object; message: string }[] = [];
  return {
    lines,
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
  };
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function refusedCount(pipeline: string, reason: WriteRefusal): Promise<number> {
  const metric = await register.getSingleMetric('store_write_refused_total')?.get();
  return metric?.values.find((v) => v.labels.pipeline === pipeline && v.labels.reason === reason)?.value ?? 0;
}

async function refusingGauge(pipeline: string): Promise<number | undefined> {
  const metric = await register.getSingleMetric('store_refusing_writes')?.get();
  return metric?.values.find((v) => v.labels.pipeline === pipeline)?.value;
}

let pipelines = 0;
const newPipeline = () => `refusal-test-${++pipelines}`;

describe('a store that refuses writes', () => {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()));
  });

  it.each(['oom', 'readonly'] as const)(
    'holds the batch unacknowledged while it refuses (%s), then counts every message once',
    async (reason) => {
      const broker = createMemoryBroker();
      const store = new MemoryCountingStore();
      store.keyspace.refuseWrites = reason;
      const delays: number[] = [];
      const whileRefused: { backlog: number; total: number }[] = [];
      const subscriber = broker.subscriber({ maxBatch: 100 });
      closing.push(() => subscriber.close());
      await subscriber.start(
        createCountingHandler(store, {
          pipeline: newPipeline(),
          sleep: async (ms) => {
            delays.push(ms);
            whileRefused.push({ backlog: await subscriber.backlog(), total: store.keyspace.total });
            if (delays.length === 4) store.keyspace.refuseWrites = undefined;
          },
        }),
      );
      const messages = [message('a'), message('b', 'SV'), message('a'), message('c')];
      await broker.publisher().publish(messages.map(envelope));
      await until(async () => (await subscriber.backlog()) === 0);

      expect(delays).toEqual([200, 400, 800, 1600]);
      // Nothing acknowledged (all four still in the broker) and nothing counted before the store took writes.
      expect(whileRefused).toEqual(Array(4).fill({ backlog: 4, total: 0 }));
      expect(await store.counts()).toEqual({
        total: 3,
        byCountry: { GT: 2, SV: 1 },
        byWeather: { Rainy: 3 },
        byCountryWeather: { 'GT:Rainy': 2, 'SV:Rainy': 1 },
      });
    },
  );

  it('grows the back-off to its bound and goes on with it when a batch held too long comes again', async () => {
    const broker = createMemoryBroker();
    const store = new MemoryCountingStore();
    store.keyspace.refuseWrites = 'oom';
    let now = 0;
    const delays: number[] = [];
    let rejections = 0;
    const pipeline = newPipeline();
    const handler = createCountingHandler(store, {
      pipeline,
      writes: new StoreWrites({ pipeline, initialDelayMs: 100, maxDelayMs: 400, now: () => now }),
      maxHoldMs: 1_000,
      now: () => now,
      sleep: async (ms) => {
        delays.push(ms);
        now += ms;
        if (delays.length === 8) store.keyspace.refuseWrites = undefined;
      },
    });
    const subscriber = broker.subscriber({ retryDelayMs: 1 });
    closing.push(() => subscriber.close());
    await subscriber.start(async (batch) => {
      try {
        await handler(batch);
      } catch (error) {
        rejections += 1;
        throw error;
      }
    });
    await broker.publisher().publish([envelope(message('a')), envelope(message('b'))]);
    await until(async () => (await subscriber.backlog()) === 0);

    // Held for 100 + 200 + 400 = 700 ms; another 400 would pass 1 s: given back, and the streak goes on at 400.
    expect(delays).toEqual([100, 200, 400, 400, 400, 400, 400, 400]);
    expect(rejections).toBe(3);
    expect(await store.counts()).toMatchObject({ total: 2 });
  });

  it('reports it: a metric per refused attempt, one warning per streak and reason, /ready 503 until a write', async () => {
    const pipeline = newPipeline();
    const log = recordingLog();
    const store = new MemoryCountingStore();
    const writes = new StoreWrites({ pipeline, log });
    const subscriber = { isReady: () => true };
    // Each wait lasts until the test ends it: one refused attempt per step.
    let waits = 0;
    let endWait = () => {};
    const handler = createCountingHandler(store, {
      pipeline,
      writes,
      sleep: () => {
        waits += 1;
        return new Promise<void>((resolve) => {
          endWait = resolve;
        });
      },
    });
    const step = async () => {
      const before = waits;
      endWait();
      await until(() => waits > before);
    };
    const server = await startMetricsServer(0, {
      host: '127.0.0.1',
      routes: readinessRoutes({ subscriber, writes }),
    });
    closing.push(() => new Promise((resolve) => server.close(() => resolve())));
    const ready = async () => {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/ready`);
      return { status: response.status, body: await response.json() };
    };

    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await refusingGauge(pipeline)).toBe(0);
    expect(await refusedCount(pipeline, 'oom')).toBe(0);

    store.keyspace.refuseWrites = 'oom';
    const held = handler([
      { id: 'a', payload: encodeMessage(message('a')) },
      { id: 'b', payload: encodeMessage(message('b')) },
    ]);
    await until(() => waits === 1);
    expect(await ready()).toEqual({
      status: 503,
      body: { error: { code: 'not_ready', message: 'the store refuses writes (oom)' } },
    });
    expect(await refusingGauge(pipeline)).toBe(1);
    // Three refused attempts in a row: one warning.
    await step();
    await step();
    expect(await refusedCount(pipeline, 'oom')).toBe(3);
    expect(log.lines).toEqual([
      {
        level: 'warn',
        fields: {
          pipeline,
          reason: 'oom',
          reply:
            "the counting script failed for 2 of 2 messages: OOM command not allowed when used memory > 'maxmemory'.",
        },
        message: 'the store refuses writes: holding the batches unacknowledged, retrying with back-off',
      },
    ]);
    // The reason changes (a fail-over left a replica): told once more.
    store.keyspace.refuseWrites = 'readonly';
    await step();
    await step();
    expect(await refusedCount(pipeline, 'readonly')).toBe(2);
    expect(log.lines.map((line) => [line.level, (line.fields as { reason: string }).reason])).toEqual([
      ['warn', 'oom'],
      ['warn', 'readonly'],
    ]);
    expect(notReadyBecause({ subscriber, writes })).toEqual(['the store refuses writes (readonly)']);

    store.keyspace.refuseWrites = undefined;
    endWait();
    await held;
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await refusingGauge(pipeline)).toBe(0);
    expect(log.lines.at(-1)).toMatchObject({
      level: 'info',
      fields: { pipeline, reason: 'readonly', refusals: 5 },
      message: 'the store takes writes again',
    });
    expect(store.keyspace.total).toBe(2);
  });

  it('gives a held batch back at once when the consumer stops, with nothing counted', async () => {
    const store = new MemoryCountingStore();
    store.keyspace.refuseWrites = 'oom';
    const stopping = new AbortController();
    const pipeline = newPipeline();
    // The real timer, with a first wait of a minute: only the abort can end it.
    const handler = createCountingHandler(store, {
      pipeline,
      writes: new StoreWrites({ pipeline, initialDelayMs: 60_000, maxDelayMs: 60_000 }),
      maxHoldMs: 600_000,
      signal: stopping.signal,
    });
    const held = handler([{ id: 'a', payload: encodeMessage(message('a')) }]);
    const started = Date.now();
    setTimeout(() => stopping.abort(), 20);
    await expect(held).rejects.toMatchObject({ name: 'StoreWriteRefusedError', reason: 'oom' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(store.keyspace.total).toBe(0);
    // Stopping already: the next batch is not held at all.
    await expect(handler([{ id: 'b', payload: encodeMessage(message('b')) }])).rejects.toThrow(/OOM/);
  });

  it('rejects any other failure at once: not held, not reported as a refusal', async () => {
    const store = new MemoryCountingStore();
    await store.close();
    const pipeline = newPipeline();
    const writes = new StoreWrites({ pipeline });
    let slept = 0;
    const handler = createCountingHandler(store, {
      pipeline,
      writes,
      sleep: async () => {
        slept += 1;
      },
    });
    await expect(handler([{ id: 'a', payload: encodeMessage(message('a')) }])).rejects.toThrow(/closed/);
    expect(slept).toBe(0);
    expect(writes.refusing).toBeUndefined();
    expect(await refusedCount(pipeline, 'oom')).toBe(0);
  });

  it('ends no streak with a batch that had nothing to write (all poison)', async () => {
    const store = new MemoryCountingStore();
    const pipeline = newPipeline();
    const writes = new StoreWrites({ pipeline });
    writes.refused('oom', new Error('OOM command not allowed'));
    const handler = createCountingHandler(store, { pipeline, writes });
    await handler([{ id: 'x', payload: Buffer.from('not json') }]);
    expect(writes.refusing).toBe('oom');
    await handler([{ id: 'a', payload: encodeMessage(message('a')) }]);
    expect(writes.refusing).toBeUndefined();
  });

  it('says why it is not ready: stopping, not consuming, the store refusing', () => {
    const writes = new StoreWrites({ pipeline: newPipeline() });
    const stopping = new AbortController();
    const down = { isReady: () => false };
    expect(notReadyBecause({ subscriber: { isReady: () => true }, writes })).toEqual([]);
    expect(notReadyBecause({ subscriber: down, writes })).toEqual([
      'not consuming (the broker connection or subscription is down)',
    ]);
    writes.refused('readonly', new Error('READONLY'));
    stopping.abort();
    expect(notReadyBecause({ subscriber: down, writes, stopping: stopping.signal })).toEqual([
      'shutting down',
      'the store refuses writes (readonly)',
    ]);
  });

  it('refuses a back-off that could be a busy loop', () => {
    expect(() => new StoreWrites({ pipeline: 'x', initialDelayMs: 0 })).toThrow(RangeError);
    expect(() => new StoreWrites({ pipeline: 'x', initialDelayMs: 500, maxDelayMs: 100 })).toThrow(
      RangeError,
    );
  });
});
