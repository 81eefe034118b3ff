/**
 * The whole pipeline on the real local stack: HTTP → edge → gRPC → ingest → Kafka + RabbitMQ → consumers →
 * Redis + Valkey. Every id that got a 202 must be counted exactly once in each store — per country, per weather,
 * per country and weather, and in total — through client retries, concurrent duplicates and consumer restarts.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { projectRoot } from '@tandem/config';
import type { CountingStore, Counts } from '@tandem/counting';
import type { ServiceName, System } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPipeline, startPipeline } from './pipeline-setup.ts';

/** What a client sends, and what the stores must then show (normalised here independently of the code under test). */
interface Sent {
  body: Record<string, string>;
  headerId?: string;
  country: string;
  weather: string;
}

const countries = [
  'gt',
  'SV',
  ' Honduras ',
  'mx',
  'US',
  'Costa Rica',
  "Côte d'Ivoire",
  'St. Lucia',
  'Guinea-Bissau',
  'Perú',
  'CL',
  'AR',
];
const weathers: Record<string, string> = {
  Sunny: 'Sunny',
  Soleado: 'Sunny',
  soleado: 'Sunny',
  Cloudy: 'Cloudy',
  Nublado: 'Cloudy',
  NUBLOSO: 'Cloudy',
  Rainy: 'Rainy',
  Lluvioso: 'Rainy',
  lluvioso: 'Rainy',
};
const weatherWords = Object.keys(weathers);

let system: System;
let redis: CountingStore;
let valkey: CountingStore;
/** Every id that got a 202, with what it must be counted under. */
const accepted = new Map<string, { country: string; weather: string }>();

function message(i: number): Sent {
  const country = countries[i % countries.length] as string;
  const word = weatherWords[(i * 7) % weatherWords.length] as string;
  const body: Record<string, string> = {
    description: `Mensaje ${i}: el clima de hoy`,
    country,
    weather: word,
  };
  const sent: Sent = { body, country: country.trim().toUpperCase(), weather: weathers[word] as string };
  if (i % 10 < 3) body.id = `client-${randomUUID()}`;
  else if (i % 10 === 3) sent.headerId = `header-${randomUUID()}`;
  return sent;
}

async function post(sent: Sent): Promise<{ status: number; id?: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (sent.headerId) headers['idempotency-key'] = sent.headerId;
  const response = await fetch(`${system.edgeUrl}/input`, {
    method: 'POST',
    headers,
    body: JSON.stringify(sent.body),
  });
  const json = (await response.json()) as { id?: string };
  if (response.status === 202 && json.id)
    accepted.set(json.id, { country: sent.country, weather: sent.weather });
  return json.id ? { status: response.status, id: json.id } : { status: response.status };
}

/** Sends with bounded concurrency, retrying (same id) what was not accepted, as a careful client would. */
async function sendAll(items: readonly Sent[], concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as Sent;
      for (let attempt = 0; ; attempt++) {
        const { status, id } = await post(item).catch(() => ({ status: 0, id: undefined }));
        if (status === 202) {
          // Later retries of an edge-assigned id send it back in the body, as a client that kept it would.
          if (id && !item.body.id && !item.headerId) item.body.id = id;
          break;
        }
        if (attempt > 50) throw new Error(`not accepted after 50 retries: ${status}`);
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

function expectedCounts(): Counts {
  const counts: Counts = { total: accepted.size, byCountry: {}, byWeather: {}, byCountryWeather: {} };
  for (const { country, weather } of accepted.values()) {
    counts.byCountry[country] = (counts.byCountry[country] ?? 0) + 1;
    counts.byWeather[weather] = (counts.byWeather[weather] ?? 0) + 1;
    const key = `${country}:${weather}`;
    counts.byCountryWeather[key] = (counts.byCountryWeather[key] ?? 0) + 1;
  }
  return counts;
}

/** Waits until both stores reach the expected total (and then stay put for a moment), returning their counts. */
async function settledCounts(timeoutMs = 90_000): Promise<[Counts, Counts]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const both = await Promise.all([redis.counts(), valkey.counts()]);
    if (both.every((c) => c.total >= accepted.size) || Date.now() > deadline) {
      await sleep(1000);
      return Promise.all([redis.counts(), valkey.counts()]);
    }
    await sleep(250);
  }
}

let pipeline: RunningPipeline | undefined;

beforeAll(async () => {
  pipeline = await startPipeline(18_080);
  ({ system, redis, valkey } = pipeline);
}, 120_000);

afterAll(() => pipeline?.stop());

describe('the pipeline', () => {
  it('accepts a call from a client of the original system (fields 1–3 only)', async () => {
    const definition = loadSync(join(projectRoot, 'proto/test/fixtures/original.proto'), { keepCase: true });
    // biome-ignore lint/suspicious/noExplicitAny: the original contract has no generated types, on purpose
    const weather = (loadPackageDefinition(definition) as any).weather;
    const client = new weather.WeatherService(system.ingestAddress, credentials.createInsecure());
    const response = await new Promise<{ success: boolean; message: string }>((resolve, reject) =>
      client.ProcessTweet(
        { description: 'Está lloviendo', country: 'gt', weather: 'Lluvioso' },
        { deadline: Date.now() + 5000 },
        (error: Error | null, value: { success: boolean; message: string }) =>
          error ? reject(error) : resolve(value),
      ),
    );
    client.close();
    expect(response.success).toBe(true);
    // The original client cannot see the id; it is counted all the same.
    accepted.set('original-client', { country: 'GT', weather: 'Rainy' });
    const [inRedis, inValkey] = await settledCounts();
    expect(inRedis).toEqual(expectedCounts());
    expect(inValkey).toEqual(expectedCounts());
  }, 60_000);

  it('counts 5,000 messages exactly once in each store, through retries and concurrent duplicates', async () => {
    const items = Array.from({ length: 5000 }, (_, i) => message(i));
    await sendAll(items);
    // 10% retried with the same id after their 202.
    await sendAll(items.filter((_, i) => i % 10 === 5 || i % 10 === 0));
    // 5% sent twice at the same moment (same client id).
    const twins = items.filter((item, i) => item.body.id && i % 20 === 1);
    await Promise.all(twins.flatMap((item) => [post(item), post(item)]));

    expect(accepted.size).toBe(5001);
    const [inRedis, inValkey] = await settledCounts();
    expect(Object.keys(inRedis.byCountry).length).toBeGreaterThanOrEqual(10);
    expect(inRedis).toEqual(expectedCounts());
    expect(inValkey).toEqual(expectedCounts());
  }, 300_000);

  it.each([
    ['SIGTERM', 'SIGKILL'],
    ['SIGKILL', 'SIGTERM'],
  ] as const)(
    'loses and double-counts nothing when the consumers restart mid-stream (kafka %s, rabbit %s)',
    async (kafkaSignal, rabbitSignal) => {
      const before = accepted.size;
      const items = Array.from({ length: 3000 }, (_, i) => message(100_000 + i));
      const restarts = (async () => {
        await sleep(1500);
        const consumers: [ServiceName, 'SIGTERM' | 'SIGKILL'][] = [
          ['kafka-consumer', kafkaSignal],
          ['rabbit-consumer', rabbitSignal],
        ];
        for (const [name, signal] of consumers) {
          const code = await system.stop(name, signal);
          if (signal === 'SIGTERM') expect(code).toBe(0);
          await sleep(500);
          await system.start(name);
        }
      })();
      await Promise.all([sendAll(items), restarts]);
      expect(accepted.size).toBe(before + 3000);
      const [inRedis, inValkey] = await settledCounts();
      expect(inRedis).toEqual(expectedCounts());
      expect(inValkey).toEqual(expectedCounts());
    },
    300_000,
  );
});
