/**
 * The ingest's RPCs in-process over real gRPC, with recording publishers in place of the brokers (the real
 * brokers are exercised by the broker conformance suite and the end-to-end tests).
 */
import { credentials, type Server, status } from '@grpc/grpc-js';
import { decodeMessage } from '@tandem/message';
import { HealthClient, loadWeatherPackage, type WeatherServiceClient } from '@tandem/proto';
import { register } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bind, createIngest, createIngestServer, shutdown } from '../src/app.ts';
import { RecordingPublisher } from './recording-publisher.ts';

let server: Server;
let client: WeatherServiceClient;
let kafka: RecordingPublisher;
let rabbitmq: RecordingPublisher;
const now = 1_763_700_000_000;

beforeEach(async () => {
  kafka = new RecordingPublisher();
  rabbitmq = new RecordingPublisher();
  server = createIngestServer(
    createIngest({ publishers: { kafka, rabbitmq }, maxInFlight: 10, now: () => now }),
  );
  const port = await bind(server, '127.0.0.1:0');
  client = new (loadWeatherPackage().weather.WeatherService)(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
  );
});

afterEach(async () => {
  client.close();
  await shutdown(server, 1000);
});

const deadline = () => ({ deadline: Date.now() + 5000 });
type Tweet = { description?: string; country?: string; weather?: string; id?: string };

function processTweet(tweet: Tweet) {
  return new Promise<{ success: boolean; message: string; id: string }>((resolve, reject) =>
    client.ProcessTweet(tweet, deadline(), (error, response) =>
      error || !response ? reject(error) : resolve(response),
    ),
  );
}

function processBatch(tweets: Tweet[]) {
  return new Promise<{ success: boolean; ids: string[] }>((resolve, reject) =>
    client.ProcessTweetBatch({ tweets }, deadline(), (error, response) =>
      error || !response ? reject(error) : resolve(response),
    ),
  );
}

describe('ProcessTweet', () => {
  it('publishes the normalised message with an id and accepted-at time to both brokers, then answers success', async () => {
    const response = await processTweet({
      description: ' Está lloviendo ',
      country: 'gt',
      weather: 'Lluvioso',
    });
    expect(response.success).toBe(true);
    expect(response.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    for (const broker of [kafka, rabbitmq]) {
      expect(broker.published).toHaveLength(1);
      expect(broker.published[0]?.id).toBe(response.id);
      expect(decodeMessage(broker.published[0]?.payload ?? Buffer.alloc(0))).toEqual({
        id: response.id,
        description: 'Está lloviendo',
        country: 'GT',
        weather: 'Rainy',
        acceptedAt: now,
      });
    }
  });

  it("keeps the client's id", async () => {
    const response = await processTweet({
      description: 'Sol',
      country: 'SV',
      weather: 'Sunny',
      id: 'order-42',
    });
    expect(response.id).toBe('order-42');
    expect(kafka.published[0]?.id).toBe('order-42');
  });

  it('refuses invalid input with INVALID_ARGUMENT naming the field, and publishes nothing', async () => {
    await expect(processTweet({ description: 'x', country: 'G7', weather: 'Sunny' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/country/),
    });
    await expect(processTweet({ description: 'x', country: 'GT', weather: 'Snowy' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/weather/),
    });
    expect(kafka.published).toEqual([]);
    expect(rabbitmq.published).toEqual([]);
  });

  it('answers UNAVAILABLE when one broker does not confirm', async () => {
    rabbitmq.failWith = new Error('channel closed');
    await expect(processTweet({ description: 'x', country: 'GT', weather: 'Sunny' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(/rabbitmq.*retry with the same id/),
    });
  });

  it('answers UNAVAILABLE when a publisher throws instead of rejecting, and frees its in-flight room', async () => {
    const publish = kafka.publish.bind(kafka);
    kafka.publish = () => {
      throw new Error('socket gone');
    };
    await expect(processTweet({ description: 'x', country: 'GT', weather: 'Sunny' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(/not confirmed by kafka/),
    });
    kafka.publish = publish;
    // The limit is 10: all of them fit again.
    await expect(
      processBatch(Array.from({ length: 10 }, () => ({ description: 'x', country: 'GT', weather: 'Sunny' }))),
    ).resolves.toMatchObject({ success: true });
  });

  it('fails fast with UNAVAILABLE when a broker is not connected, publishing nowhere', async () => {
    kafka.ready = false;
    await expect(processTweet({ description: 'x', country: 'GT', weather: 'Sunny' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: expect.stringMatching(/kafka/),
    });
    expect(rabbitmq.published).toEqual([]);
  });

  it('refuses work beyond its in-flight limit with RESOURCE_EXHAUSTED', async () => {
    let release = () => {};
    kafka.release = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = processBatch(
      Array.from({ length: 10 }, () => ({ description: 'x', country: 'GT', weather: 'Sunny' })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(processTweet({ description: 'x', country: 'GT', weather: 'Sunny' })).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
    });
    release();
    await expect(held).resolves.toMatchObject({ success: true });
  });
});

describe('ProcessTweetBatch', () => {
  it('publishes every message of the batch in one call per broker and returns the ids in order', async () => {
    const response = await processBatch([
      { description: 'a', country: 'GT', weather: 'Soleado', id: 'first' },
      { description: 'b', country: 'MX', weather: 'Nublado' },
    ]);
    expect(response.ids[0]).toBe('first');
    expect(response.ids).toHaveLength(2);
    expect(kafka.published.map((e) => e.id)).toEqual(response.ids);
    expect(rabbitmq.published.map((e) => decodeMessage(e.payload).weather)).toEqual(['Sunny', 'Cloudy']);
  });

  it('is all-or-nothing: one invalid message refuses the whole batch', async () => {
    await expect(
      processBatch([
        { description: 'ok', country: 'GT', weather: 'Sunny' },
        { description: '', country: 'GT', weather: 'Sunny' },
      ]),
    ).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/\[1\]\.description/),
    });
    expect(kafka.published).toEqual([]);
  });

  it('refuses an empty batch', async () => {
    await expect(processBatch([])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

type Result = { success: boolean; message: string; id: string; code: number };

function processTweets(tweets: Tweet[]) {
  return new Promise<Result[]>((resolve, reject) =>
    client.ProcessTweets({ tweets }, deadline(), (error, response) =>
      error || !response ? reject(error) : resolve(response.results),
    ),
  );
}

describe('ProcessTweets', () => {
  const ok = (id: string) => ({ description: 'x', country: 'GT', weather: 'Sunny', id });

  it('publishes the valid messages in one call per broker and answers each on its own, in order', async () => {
    const results = await processTweets([
      ok('t-1'),
      { description: 'x', country: 'G7', weather: 'Sunny', id: 't-2' },
      { description: 'y', country: 'sv', weather: 'Nublado' },
      { ...ok('t-4'), weather: 'Snowy' },
    ]);
    expect(results).toEqual([
      { success: true, message: 'accepted', id: 't-1', code: status.OK },
      {
        success: false,
        message: expect.stringMatching(/^country: /),
        id: 't-2',
        code: status.INVALID_ARGUMENT,
      },
      {
        success: true,
        message: 'accepted',
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7/),
        code: 0,
      },
      {
        success: false,
        message: expect.stringMatching(/^weather: /),
        id: 't-4',
        code: status.INVALID_ARGUMENT,
      },
    ]);
    for (const broker of [kafka, rabbitmq]) {
      expect(broker.calls).toBe(1);
      expect(broker.published.map((e) => decodeMessage(e.payload))).toEqual([
        { id: 't-1', description: 'x', country: 'GT', weather: 'Sunny', acceptedAt: now },
        { id: results[2]?.id, description: 'y', country: 'SV', weather: 'Cloudy', acceptedAt: now },
      ]);
    }
  });

  it('publishes nothing when every message is invalid', async () => {
    const results = await processTweets([{ ...ok('u-1'), description: '' }]);
    expect(results).toMatchObject([{ success: false, id: 'u-1', code: status.INVALID_ARGUMENT }]);
    expect([kafka.calls, rabbitmq.calls]).toEqual([0, 0]);
  });

  it('fails each valid message UNAVAILABLE when a broker does not confirm, the invalid ones still INVALID_ARGUMENT', async () => {
    kafka.failWith = new Error('not leader');
    const results = await processTweets([ok('v-1'), { ...ok('v-2'), weather: '' }, ok('v-3')]);
    expect(results.map((r) => [r.id, r.success, r.code])).toEqual([
      ['v-1', false, status.UNAVAILABLE],
      ['v-2', false, status.INVALID_ARGUMENT],
      ['v-3', false, status.UNAVAILABLE],
    ]);
    expect(results[0]?.message).toMatch(/kafka.*retry with the same id/);
  });

  it('fails each valid message UNAVAILABLE at once when a broker is not connected, publishing nowhere', async () => {
    rabbitmq.ready = false;
    const results = await processTweets([ok('w-1'), ok('w-2')]);
    expect(results.map((r) => r.code)).toEqual([status.UNAVAILABLE, status.UNAVAILABLE]);
    expect(kafka.published).toEqual([]);
  });

  it('publishes what fits under the in-flight limit and refuses each message beyond it RESOURCE_EXHAUSTED', async () => {
    let release = () => {};
    kafka.release = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = processTweets(Array.from({ length: 9 }, (_, i) => ok(`x-${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Room for one of 10: the first valid one goes, the invalid one is refused as invalid, the rest for the bound.
    const answered = processTweets([ok('y-1'), { ...ok('y-2'), weather: '' }, ok('y-3'), ok('y-4')]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    expect((await answered).map((r) => [r.id, r.code])).toEqual([
      ['y-1', status.OK],
      ['y-2', status.INVALID_ARGUMENT],
      ['y-3', status.RESOURCE_EXHAUSTED],
      ['y-4', status.RESOURCE_EXHAUSTED],
    ]);
    expect((await held).every((r) => r.success)).toBe(true);
    expect(kafka.published.map((e) => e.id)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `x-${i}`),
      'y-1',
    ]);
  });

  it('refuses a call with no message as a whole, with INVALID_ARGUMENT', async () => {
    await expect(processTweets([])).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe('metrics', () => {
  /** A metric's values now, by its label (outcome or broker); a histogram's by series (`_count`, ...). */
  async function values(name: string, label: string, suffix = '') {
    const metric = await register.getSingleMetric(name)?.get();
    return Object.fromEntries(
      (metric?.values ?? [])
        .filter((v) => ((v as { metricName?: string }).metricName ?? name) === `${name}${suffix}`)
        .map((v) => [String(v.labels[label]), v.value]),
    );
  }

  it('counts messages by outcome and observes each broker publish', async () => {
    const before = await values('ingest_messages_total', 'outcome');
    const observedBefore = await values('ingest_publish_seconds', 'broker', '_count');
    await processBatch([
      { description: 'x', country: 'GT', weather: 'Sunny' },
      { description: 'y', country: 'GT', weather: 'Rainy' },
    ]);
    await expect(processTweet({ description: '', country: 'GT', weather: 'Sunny' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    const after = await values('ingest_messages_total', 'outcome');
    const observedAfter = await values('ingest_publish_seconds', 'broker', '_count');
    expect((after.accepted ?? 0) - (before.accepted ?? 0)).toBe(2);
    expect((after.invalid ?? 0) - (before.invalid ?? 0)).toBe(1);
    expect((observedAfter.kafka ?? 0) - (observedBefore.kafka ?? 0)).toBe(1);
    expect((observedAfter.rabbitmq ?? 0) - (observedBefore.rabbitmq ?? 0)).toBe(1);
  });

  it('shows the messages a broker has not confirmed yet as in flight, and none once it has', async () => {
    const inFlight = async () =>
      (await register.getSingleMetric('ingest_messages_in_flight')?.get())?.values[0]?.value;
    let release = () => {};
    rabbitmq.release = new Promise<void>((resolve) => {
      release = resolve;
    });
    const held = processBatch([
      { description: 'x', country: 'GT', weather: 'Sunny' },
      { description: 'y', country: 'GT', weather: 'Rainy' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await inFlight()).toBe(2);
    release();
    await held;
    expect(await inFlight()).toBe(0);
  });
});

describe('grpc.health.v1.Health/Check', () => {
  function check(service = ''): Promise<string | undefined> {
    const health = new HealthClient('unused', credentials.createInsecure(), {
      channelOverride: client.getChannel(),
    });
    return new Promise((resolve, reject) =>
      health.Check({ service }, deadline(), (error, response) =>
        error ? reject(error) : resolve(response?.status),
      ),
    );
  }

  it('is SERVING while both brokers are ready, NOT_SERVING while one is not', async () => {
    expect(await check()).toBe('SERVING');
    rabbitmq.ready = false;
    expect(await check()).toBe('NOT_SERVING');
    rabbitmq.ready = true;
    kafka.ready = false;
    expect(await check('weather.WeatherService')).toBe('NOT_SERVING');
    kafka.ready = true;
    expect(await check()).toBe('SERVING');
  });
});
