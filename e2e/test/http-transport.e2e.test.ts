/**
 * The edge → ingest hop over plain HTTP/JSON (INGEST_ADDR `http://…`, the ingest's HTTP_PORT), the transport the
 * benchmark compares gRPC with, on the real local stack: it must be just as exact, and fail just as cleanly.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CountingStore } from '@tandem/counting';
import type { System } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPipeline, startPipeline } from './pipeline-setup.ts';

const portBase = 18_180;
let system: System;
let redis: CountingStore;
let valkey: CountingStore;
let pipeline: RunningPipeline | undefined;

beforeAll(async () => {
  pipeline = await startPipeline(portBase, { ingest: 'http' });
  ({ system, redis, valkey } = pipeline);
}, 120_000);

afterAll(() => pipeline?.stop());

function post(path: string, body: unknown) {
  return fetch(`${system.edgeUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('edge → ingest over HTTP/JSON', () => {
  it('counts single and batched messages exactly once in each store, duplicates included', async () => {
    const countries = ['GT', 'MX', 'SV', 'HN', 'CR'];
    const single = Array.from({ length: 400 }, (_, i) => ({
      id: `http-single-${i}`,
      description: `mensaje ${i}`,
      country: countries[i % countries.length],
      weather: i % 2 ? 'Lluvioso' : 'Sunny',
    }));
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 25 }, (_, i) => ({
        id: `http-batch-${b}-${i}`,
        description: 'en lote',
        country: countries[(b + i) % countries.length],
        weather: 'Nublado',
      })),
    );
    // Every single message twice at once, and every batch sent again after its 202: the stores count each id once.
    const statuses = await Promise.all([
      ...single.flatMap((message) => [post('/input', message), post('/input', message)]),
      ...batches.map((batch) => post('/input/batch', batch)),
    ]).then((responses) => responses.map((r) => r.status));
    const again = await Promise.all(batches.map((batch) => post('/input/batch', batch)));
    expect(new Set([...statuses, ...again.map((r) => r.status)])).toEqual(new Set([202]));

    const expected = { total: 900, byCountry: {} as Record<string, number> };
    for (const m of [...single, ...batches.flat()])
      expected.byCountry[m.country as string] = (expected.byCountry[m.country as string] ?? 0) + 1;
    const deadline = Date.now() + 60_000;
    while ((await redis.counts()).total < 900 || (await valkey.counts()).total < 900) {
      if (Date.now() > deadline) break;
      await sleep(200);
    }
    await sleep(1000); // a double count would land now
    for (const store of [redis, valkey]) {
      const counts = await store.counts();
      expect(counts.total).toBe(expected.total);
      expect(counts.byCountry).toEqual(expected.byCountry);
      expect(counts.byWeather).toEqual({ Sunny: 200, Rainy: 200, Cloudy: 500 });
    }
  }, 120_000);

  it('answers 503 with Retry-After quickly and turns /ready 503 while the ingest is down, then recovers', async () => {
    await system.stop('grpc-ingest', 'SIGKILL');
    const started = Date.now();
    const refused = await post('/input', { description: 'x', country: 'GT', weather: 'Sunny' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await fetch(`${system.edgeUrl}/ready`)).status).toBe(503);

    await system.start('grpc-ingest');
    await system.waitHealthy('edge-api');
    const accepted = await post('/input', {
      id: 'after-restart',
      description: 'x',
      country: 'GT',
      weather: 'Sunny',
    });
    expect(accepted.status).toBe(202);
  }, 60_000);
});
