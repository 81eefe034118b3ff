import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeMessage } from '@tandem/message';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { afterEach, describe, expect, it } from 'vitest';
import { createLatencyRecorder, type LatencySnapshot, recordLatency, serveLatency } from '../src/latency.ts';

const payload = (id: string, acceptedAt: number) =>
  encodeMessage({ id, description: 'Está lloviendo', country: 'GT', weather: 'Rainy', acceptedAt });

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

describe('recordLatency', () => {
  it('records every decodable delivery once the handler resolved, and nothing for a failed batch', async () => {
    const recorder = createLatencyRecorder('test');
    let fail = true;
    const handle = recordLatency(
      async () => {
        if (fail) throw new Error('store down');
      },
      recorder,
      () => 1_250,
    );
    const batch = [
      { id: 'a', payload: payload('a', 1_000) },
      { id: 'x', payload: Buffer.from('poison') },
      { id: 'b', payload: payload('b', 1_200) },
    ];
    await expect(handle(batch)).rejects.toThrow('store down');
    expect(recorder.snapshot().count).toBe(0);
    fail = false;
    await handle(batch);
    expect(recorder.snapshot()).toMatchObject({ count: 2, min: 50, max: 250 });
  });
});

describe('serveLatency', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('answers /latency and /latency/reset and passes every other request on', async () => {
    server = createServer((_, response) => response.writeHead(200).end('metrics'));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const recorder = createLatencyRecorder('test');
    serveLatency(server, recorder);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    recorder.record(0, 7);
    const snapshot = (await (await fetch(`${base}/latency`)).json()) as LatencySnapshot;
    expect(snapshot).toMatchObject({ count: 1, max: 7 });
    const reset = (await (
      await fetch(`${base}/latency/reset`, { method: 'POST' })
    ).json()) as LatencySnapshot;
    expect(reset.count).toBe(1);
    expect(((await (await fetch(`${base}/latency`)).json()) as LatencySnapshot).count).toBe(0);
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('metrics');
  });
});
