import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startMetricsServer } from '@tandem/service';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createLatencyRecorder, type LatencySnapshot, latencyRoutes } from '../src/latency.ts';

describe('createLatencyRecorder', () => {
  it('keeps percentiles to 3 significant digits and starts a new interval on reset', () => {
    let clock = 1_000;
    const recorder = createLatencyRecorder('test', () => clock);
    for (let i = 1; i <= 100; i += 1) recorder.record(10_000, 10_000 + i);
    clock = 2_000;
    const first = recorder.snapshot(true);
    expect(first).toMatchObject({ pipeline: 'test', unit: 'ms', from: 1_000, to: 2_000, count: 100 });
    expect(first).toMatchObject({ min: 1, p50: 50, p90: 90, p95: 95, p99: 99, max: 100 });
    expect(decodeFromCompressedBase64(first.histogram).totalCount).toBe(100);
    const second = recorder.snapshot();
    expect(second).toMatchObject({ from: 2_000, count: 0, p99: 0, max: 0 });
  });

  it('records a backwards clock step as 0, not as a negative value', () => {
    const recorder = createLatencyRecorder('test');
    recorder.record(5_000, 4_000);
    expect(recorder.snapshot()).toMatchObject({ count: 1, max: 0 });
  });
});

describe('latencyRoutes', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('answers /latency and /latency/reset beside the metrics', async () => {
    const recorder = createLatencyRecorder('test');
    server = await startMetricsServer(0, { host: '127.0.0.1', routes: latencyRoutes(recorder) });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    recorder.record(0, 7);
    const snapshot = (await (await fetch(`${base}/latency`)).json()) as LatencySnapshot;
    expect(snapshot).toMatchObject({ count: 1, max: 7 });
    const reset = (await (
      await fetch(`${base}/latency/reset`, { method: 'POST' })
    ).json()) as LatencySnapshot;
    expect(reset.count).toBe(1);
    expect(((await (await fetch(`${base}/latency`)).json()) as LatencySnapshot).count).toBe(0);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});
