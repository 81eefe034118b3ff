/**
 * The ingest's HTTP/JSON binding, in-process through Hono's request API, with recording publishers in place of the
 * brokers: the same ingest as over gRPC, so these tests check the binding — paths, JSON, statuses, Retry-After —
 * and that a refused request publishes nothing.
 */
import { decodeMessage } from '@tandem/message';
import { weatherHttpPaths } from '@tandem/proto';
import type { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { createIngest, createIngestHttpApp } from '../src/app.ts';
import { RecordingPublisher } from './recording-publisher.ts';

let kafka: RecordingPublisher;
let rabbitmq: RecordingPublisher;
let app: Hono;
const now = 1_763_700_000_000;

beforeEach(() => {
  kafka = new RecordingPublisher();
  rabbitmq = new RecordingPublisher();
  app = createIngestHttpApp(
    createIngest({ publishers: { kafka, rabbitmq }, maxInFlight: 10, now: () => now }),
    { maxBodyBytes: 4096 },
  );
});

function post(path: string, body: unknown, contentType = 'application/json') {
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const valid = { description: 'Está lloviendo', country: 'gt', weather: 'Lluvioso' };

describe('POST ProcessTweet', () => {
  it('publishes the normalised message to both brokers and answers a WeatherResponse', async () => {
    const response = await post(weatherHttpPaths.ProcessTweet, { ...valid, id: 'client-1' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ success: true, message: 'accepted', id: 'client-1' });
    for (const broker of [kafka, rabbitmq]) {
      expect(broker.published.map((e) => decodeMessage(e.payload))).toEqual([
        { id: 'client-1', description: 'Está lloviendo', country: 'GT', weather: 'Rainy', acceptedAt: now },
      ]);
    }
  });

  it('gives a message without an id (absent or empty, as proto3 sends it) a UUIDv7', async () => {
    for (const body of [valid, { ...valid, id: '' }]) {
      const response = await post(weatherHttpPaths.ProcessTweet, body);
      expect(((await response.json()) as { id: string }).id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    }
    expect(kafka.published).toHaveLength(2);
  });

  it.each([
    ['a missing field', { description: 'x', country: 'GT' }, 400, /weather/],
    ['a wrong-typed field', { ...valid, country: 7 }, 400, /country/],
    ['an array', [valid], 400, /object/],
    ['broken JSON', '{"description":', 400, /not valid JSON/],
    ['a form body', 'description=x', 415, /application\/json/, 'application/x-www-form-urlencoded'],
    ['a body over the limit', { ...valid, description: 'x'.repeat(5000) }, 413, /limit/],
  ])('refuses %s with %i and publishes nothing', async (_, body, status, message, contentType?: string) => {
    const response = await post(weatherHttpPaths.ProcessTweet, body, contentType);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ success: false, message: expect.stringMatching(message) });
    expect([...kafka.published, ...rabbitmq.published]).toEqual([]);
  });

  it('answers 503 with Retry-After when a broker is not connected, publishing nowhere', async () => {
    kafka.ready = false;
    const response = await post(weatherHttpPaths.ProcessTweet, valid);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(((await response.json()) as { message: string }).message).toMatch(/kafka/);
    expect(rabbitmq.published).toEqual([]);
  });

  it('answers 503 when one broker does not confirm', async () => {
    rabbitmq.failWith = new Error('channel closed');
    const response = await post(weatherHttpPaths.ProcessTweet, valid);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { message: string }).message).toMatch(/rabbitmq.*retry/);
  });

  it('answers 429 with Retry-After beyond the in-flight limit', async () => {
    let release = () => {};
    kafka.release = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = post(weatherHttpPaths.ProcessTweetBatch, {
      tweets: Array.from({ length: 10 }, () => valid),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const refused = await post(weatherHttpPaths.ProcessTweet, valid);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    release();
    expect((await held).status).toBe(200);
  });
});

describe('POST ProcessTweetBatch', () => {
  it('publishes the batch in one call per broker and answers the ids in order', async () => {
    const response = await post(weatherHttpPaths.ProcessTweetBatch, {
      tweets: [
        { ...valid, id: 'first' },
        { description: 'b', country: 'MX', weather: 'Nublado' },
      ],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { success: boolean; ids: string[] };
    expect(body.success).toBe(true);
    expect(body.ids[0]).toBe('first');
    expect(kafka.published.map((e) => e.id)).toEqual(body.ids);
    expect(rabbitmq.published.map((e) => decodeMessage(e.payload).weather)).toEqual(['Rainy', 'Cloudy']);
  });

  it.each([
    ['no tweets array', { tweet: [valid] }, /tweets/],
    ['an empty batch', { tweets: [] }, /at least one/],
    [
      'one invalid message among valid ones',
      { tweets: [valid, { ...valid, weather: 'Hail' }] },
      /\[1\]\.weather/,
    ],
  ])('refuses %s with 400, all-or-nothing', async (_, body, message) => {
    const response = await post(weatherHttpPaths.ProcessTweetBatch, body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
    expect([...kafka.published, ...rabbitmq.published]).toEqual([]);
  });
});

describe('POST ProcessTweets', () => {
  it('answers a WeatherResults, one result per message, an invalid one refused alone', async () => {
    const response = await post(weatherHttpPaths.ProcessTweets, {
      tweets: [
        { ...valid, id: 'h-1' },
        { ...valid, weather: 'Hail', id: 'h-2' },
        { ...valid, id: 'h-3' },
      ],
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      results: [
        { success: true, message: 'accepted', id: 'h-1', code: 0 },
        { success: false, message: expect.stringMatching(/^weather: /), id: 'h-2', code: 3 },
        { success: true, message: 'accepted', id: 'h-3', code: 0 },
      ],
    });
    expect(kafka.published.map((e) => e.id)).toEqual(['h-1', 'h-3']);
    expect(rabbitmq.published.map((e) => e.id)).toEqual(['h-1', 'h-3']);
  });

  it.each([
    ['no tweets array', { tweet: [valid] }, /tweets/],
    ['an empty call', { tweets: [] }, /at least one/],
  ])('refuses %s with 400', async (_, body, message) => {
    const response = await post(weatherHttpPaths.ProcessTweets, body);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(message);
  });
});

describe('GET health', () => {
  it('is SERVING while both brokers are ready, 503 NOT_SERVING while one is not', async () => {
    const up = await app.request(weatherHttpPaths.health);
    expect([up.status, await up.json()]).toEqual([200, { status: 'SERVING' }]);
    rabbitmq.ready = false;
    const down = await app.request(weatherHttpPaths.health);
    expect([down.status, await down.json()]).toEqual([503, { status: 'NOT_SERVING' }]);
  });
});

it('answers 404 with a WeatherResponse-shaped body on any other path', async () => {
  const response = await post('/weather.WeatherService/Nothing', valid);
  expect(response.status).toBe(404);
  expect(await response.json()).toMatchObject({ success: false });
});
