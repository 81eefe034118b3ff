/**
 * The edge gathers concurrent POST /input requests into one ProcessTweets call (edge-api's coalescer) and answers
 * each from its own message's result. On the real local stack: many requests at once, one of them invalid, one id
 * sent twice — only the invalid one fails, every other is answered 202 and counted exactly once in Redis and in
 * Valkey; and the ingest's ProcessTweets, called directly, refuses an invalid message alone and publishes the rest.
 */

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { projectRoot } from '@tandem/config';
import type { CountingStore, Counts } from '@tandem/counting';
import type { System } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPipeline, startPipeline } from './pipeline-setup.ts';

const portBase = 18_380;
let system: System;
let redis: CountingStore;
let valkey: CountingStore;
let pipeline: RunningPipeline | undefined;

beforeAll(async () => {
  pipeline = await startPipeline(portBase, { run: 'coalesce', db: 10 });
  ({ system, redis, valkey } = pipeline);
}, 120_000);

afterAll(() => pipeline?.stop());

const countries = ['GT', 'MX', 'SV', 'HN', 'CR', 'PA'];

function post(body: unknown) {
  return fetch(`${system.edgeUrl}/input`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A metric's value on the edge's /metrics (0 when absent). */
async function edgeMetric(name: string): Promise<number> {
  const text = await (await fetch(`${system.edgeUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** Both stores' counts once they reach `total` (and a moment after, when a double count would show). */
async function settled(total: number): Promise<[Counts, Counts]> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [r, v] = await Promise.all([redis.counts(), valkey.counts()]);
    if (r.total >= total && v.total >= total) break;
    await sleep(200);
  }
  await sleep(1000);
  return Promise.all([redis.counts(), valkey.counts()]);
}

describe('coalesced POST /input', () => {
  it('answers each of many concurrent requests from its own message, and counts each accepted one once', async () => {
    const messages = Array.from({ length: 600 }, (_, i) => ({
      id: `coalesce-${i}`,
      description: `mensaje ${i}`,
      country: countries[i % countries.length] as string,
      weather: i % 3 === 0 ? 'Lluvioso' : 'Sunny',
    }));
    // One invalid message among them: it must fail alone.
    const invalid = { ...messages[300], weather: 'Hail' };
    const callsBefore = await edgeMetric('edge_ingest_call_messages_count');
    const sent = [
      ...messages.map((m, i) => (i === 300 ? invalid : m)),
      // The same id twice at the same moment, possibly in the same gathering: counted once.
      messages[7],
    ];
    const responses = await Promise.all(sent.map((m) => post(m)));
    const statuses = responses.map((r) => r.status);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
      id?: string;
      error?: { code: string };
    }[];

    expect(statuses[300]).toBe(400);
    expect(bodies[300]?.error?.code).toBe('invalid_message');
    expect(statuses.filter((s, i) => i !== 300 && s !== 202)).toEqual([]);
    expect(bodies.filter((_, i) => i !== 300).map((b) => b.id)).toEqual(
      sent.filter((_, i) => i !== 300).map((m) => m?.id),
    );
    // Gathered: fewer calls to the ingest than requests.
    const calls = (await edgeMetric('edge_ingest_call_messages_count')) - callsBefore;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThan(600);

    const accepted = messages.filter((_, i) => i !== 300);
    const byCountry: Record<string, number> = {};
    for (const m of accepted) byCountry[m.country] = (byCountry[m.country] ?? 0) + 1;
    for (const counts of await settled(accepted.length)) {
      expect(counts.total).toBe(accepted.length);
      expect(counts.byCountry).toEqual(byCountry);
      expect(counts.byWeather).toEqual({ Rainy: 199, Sunny: 400 });
    }
  }, 120_000);

  it("has the ingest's ProcessTweets refuse an invalid message alone and publish the others", async () => {
    const before = await Promise.all([redis.counts(), valkey.counts()]);
    // biome-ignore lint/suspicious/noExplicitAny: a client of the .proto as any other client would load it
    const weather = (loadPackageDefinition(loadSync(join(projectRoot, 'proto/weather/weather.proto'))) as any)
      .weather;
    const client = new weather.WeatherService(system.ingestAddress, credentials.createInsecure());
    const tweets = [
      { id: 'direct-1', description: 'uno', country: 'gt', weather: 'Soleado' },
      { id: 'direct-2', description: 'dos', country: 'G7', weather: 'Sunny' },
      { id: 'direct-3', description: 'tres', country: 'sv', weather: 'Nublado' },
    ];
    const answer = await new Promise<{ results: { success: boolean; id: string; code: number }[] }>(
      (resolve, reject) =>
        client.ProcessTweets(
          { tweets },
          { deadline: Date.now() + 5000 },
          (error: Error | null, value: never) => (error ? reject(error) : resolve(value)),
        ),
    );
    client.close();
    expect(answer.results.map((r) => [r.id, r.success, r.code])).toEqual([
      ['direct-1', true, 0],
      ['direct-2', false, 3],
      ['direct-3', true, 0],
    ]);
    const after = await settled((before[0]?.total ?? 0) + 2);
    for (const [i, counts] of after.entries()) {
      expect(counts.total - (before[i]?.total ?? 0)).toBe(2);
      expect((counts.byCountry.GT ?? 0) - (before[i]?.byCountry.GT ?? 0)).toBe(1);
      expect((counts.byCountry.SV ?? 0) - (before[i]?.byCountry.SV ?? 0)).toBe(1);
    }
  }, 60_000);
});
