// The HTTP contract, in-process (`app.request`), against an in-memory ingest that records what was submitted.
import { beforeEach, describe, expect, it } from 'vitest';
import { type AppOptions, createApp, defaults, type ErrorBody } from '../src/app.ts';
import {
  type Body,
  badInputCases,
  JSON_TYPE,
  json,
  message,
  methodNotAllowedCases,
  notFoundCases,
} from './cases.ts';
import { MemoryIngest } from './memory-ingest.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const normalised = { description: 'Está lloviendo', country: 'GT', weather: 'Rainy' };

let ingest: MemoryIngest;
let app: ReturnType<typeof createApp>;

function build(options: Partial<AppOptions> = {}) {
  ingest = new MemoryIngest();
  app = createApp({ ingest, ...options });
  return app;
}

beforeEach(() => {
  build();
});

function post(path: string, body: Body, headers: Record<string, string> = JSON_TYPE) {
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', body, headers };
  if (body instanceof ReadableStream) init.duplex = 'half';
  return app.request(path, init);
}

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const body = (await response.json()) as ErrorBody;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(typeof body.error.message).toBe('string');
  expect(Array.isArray(body.error.details)).toBe(true);
  return body.error;
}

describe('POST /input: accepted', () => {
  it('answers 202 with a UUIDv7 after the ingest accepted the normalised message', async () => {
    const response = await post('/input', json(message));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; status: string };
    expect(body).toEqual({ id: expect.stringMatching(UUID_V7), status: 'accepted' });
    expect(ingest.submitted).toEqual([[{ ...normalised, id: body.id }]]);
  });

  it.each([
    ['Soleado', 'Sunny'],
    ['soleado', 'Sunny'],
    ['Nublado', 'Cloudy'],
    ['NUBLOSO', 'Cloudy'],
    ['Lluvioso', 'Rainy'],
    ['rainy', 'Rainy'],
  ])('normalises weather %s to %s', async (weather, expected) => {
    const response = await post('/input', json({ ...message, weather }));
    expect(response.status).toBe(202);
    expect(ingest.submitted[0]?.[0]?.weather).toBe(expected);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>, string]>([
    ['the body id', { ...message, id: 'client-1' }, {}, 'client-1'],
    ['the Idempotency-Key header', message, { 'Idempotency-Key': 'key-7' }, 'key-7'],
    ['both, when equal', { ...message, id: 'same' }, { 'Idempotency-Key': 'same' }, 'same'],
  ])('uses %s as the id', async (_name, body, headers, id) => {
    const response = await post('/input', json(body), { ...JSON_TYPE, ...headers });
    expect(await response.json()).toEqual({ id, status: 'accepted' });
    expect(ingest.submitted).toEqual([[{ ...normalised, id }]]);
  });

  it.each([
    'application/json; charset=utf-8',
    'application/json;charset=UTF-8',
    'Application/JSON',
    'application/vnd.tandem+json',
  ])('accepts Content-Type %s', async (type) => {
    expect((await post('/input', json(message), { 'Content-Type': type })).status).toBe(202);
  });

  it('accepts a UTF-8 byte order mark and unknown fields, trims and upper-cases', async () => {
    const response = await post('/input', `\uFEFF${json({ ...message, country: ' perú ', extra: [1, 2] })}`);
    expect(response.status).toBe(202);
    expect(ingest.submitted[0]?.[0]).toMatchObject({ country: 'PERÚ' });
    expect(Object.keys(ingest.submitted[0]?.[0] ?? {}).sort()).toEqual([
      'country',
      'description',
      'id',
      'weather',
    ]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('ignores a %s key and pollutes nothing', async (key) => {
    const body = `{"description":"d","country":"gt","weather":"Sunny","${key}":{"polluted":true,"country":"XX"}}`;
    const response = await post('/input', body);
    expect(response.status).toBe(202);
    const [submitted] = ingest.submitted[0] ?? [];
    expect(submitted).toEqual({ description: 'd', country: 'GT', weather: 'Sunny', id: expect.any(String) });
    expect(Object.getPrototypeOf(submitted)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('passes an abort signal to the gateway', async () => {
    await post('/input', json(message));
    expect(ingest.signals[0]).toBeInstanceOf(AbortSignal);
    expect(ingest.signals[0]?.aborted).toBe(false);
  });
});

describe('POST /input/batch: accepted', () => {
  it('answers 202 with the ids in order, client ids kept, others assigned', async () => {
    const batch = [message, { ...message, id: 'mine' }, { ...message, weather: 'Soleado' }];
    const response = await post('/input/batch', json(batch));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { ids: string[]; status: string };
    expect(body.status).toBe('accepted');
    expect(body.ids).toHaveLength(3);
    expect(body.ids[0]).toMatch(UUID_V7);
    expect(body.ids[1]).toBe('mine');
    expect(body.ids[2]).toMatch(UUID_V7);
    expect(ingest.submitted).toEqual([
      [
        { ...normalised, id: body.ids[0] },
        { ...normalised, id: 'mine' },
        { ...normalised, weather: 'Sunny', id: body.ids[2] },
      ],
    ]);
  });

  it('passes duplicate ids on as they are (counting is idempotent)', async () => {
    const response = await post(
      '/input/batch',
      json([
        { ...message, id: 'x' },
        { ...message, id: 'x' },
      ]),
    );
    expect(await response.json()).toEqual({ ids: ['x', 'x'], status: 'accepted' });
    expect(ingest.submitted[0]).toHaveLength(2);
  });

  it(`accepts exactly ${defaults.maxBatchSize} messages in one submit`, async () => {
    const response = await post(
      '/input/batch',
      json(Array.from({ length: defaults.maxBatchSize }, () => message)),
    );
    expect(response.status).toBe(202);
    expect(ingest.submitted).toHaveLength(1);
    expect(ingest.submitted[0]).toHaveLength(defaults.maxBatchSize);
  });
});

describe('bad input: the right 4xx, and nothing submitted', () => {
  it.each(badInputCases)('%s → %s %i %s', async (_name, path, body, headers, status, code) => {
    await expectError(await post(path, body, headers), status, code);
    expect(ingest.submitted).toEqual([]);
    expect(ingest.signals).toEqual([]);
  });

  it('stops reading a streamed body at the limit (a body that never ends cannot hang the edge)', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      },
    });
    await expectError(await post('/input', endless), 413, 'body_too_large');
    expect(pulled).toBeLessThan(10);
    expect(ingest.submitted).toEqual([]);
  });

  it('lists every field problem of a message', async () => {
    const error = await expectError(
      await post('/input', json({ description: '', country: 'G7', weather: 'Hail', id: '/' })),
      400,
      'invalid_message',
    );
    expect(error.details).toEqual([
      { field: 'description', code: 'too_short', message: expect.any(String) },
      { field: 'country', code: 'invalid_characters', message: expect.any(String) },
      { field: 'weather', code: 'invalid_weather', message: expect.stringContaining('Lluvioso') },
      { field: 'id', code: 'invalid_id', message: expect.any(String) },
    ]);
  });

  it('lists each bad batch item by index, and accepts none of the batch', async () => {
    const batch = [message, { ...message, weather: 'Hail' }, message, 'nope', { ...message, country: '' }];
    const error = await expectError(await post('/input/batch', json(batch)), 400, 'invalid_message');
    expect(error.message).toMatch(/3 of 5/);
    expect(error.details).toEqual([
      { index: 1, field: 'weather', code: 'invalid_weather', message: expect.any(String) },
      { index: 3, field: '', code: 'invalid_type', message: expect.any(String) },
      { index: 4, field: 'country', code: 'too_short', message: expect.any(String) },
    ]);
    expect(ingest.submitted).toEqual([]);
  });

  it('names the header in an Idempotency-Key problem', async () => {
    const error = await expectError(
      await post('/input', json(message), { ...JSON_TYPE, 'Idempotency-Key': 'ä' }),
      400,
      'invalid_id',
    );
    expect(error.details).toEqual([
      { field: 'Idempotency-Key', code: 'invalid_id', message: expect.any(String) },
    ]);
  });
});

describe('routes', () => {
  it.each(notFoundCases)('%s %s → 404 not_found', async (method, path) => {
    await expectError(await app.request(path, { method }), 404, 'not_found');
  });

  it.each(methodNotAllowedCases)('%s %s → 405 method_not_allowed, Allow: %s', async (method, path, allow) => {
    const response = await app.request(path, { method });
    await expectError(response, 405, 'method_not_allowed');
    expect(response.headers.get('allow')).toBe(allow);
    expect(ingest.submitted).toEqual([]);
  });

  it('answers HEAD on the GET routes', async () => {
    expect((await app.request('/health', { method: 'HEAD' })).status).toBe(200);
  });
});

describe('the ingest failing', () => {
  it.each<[string, 'unavailable' | 'deadline' | 'overloaded' | 'invalid', number, string, string | null]>([
    ['unavailable (a broker down)', 'unavailable', 503, 'ingest_unavailable', '1'],
    ['past its deadline', 'deadline', 503, 'ingest_timeout', '1'],
    ['overloaded', 'overloaded', 429, 'overloaded', '1'],
    ['rejecting the content', 'invalid', 400, 'rejected_by_ingest', null],
  ])('%s → %i %s', async (_name, kind, status, code, retryAfter) => {
    ingest.failWith = kind;
    for (const [path, body] of [
      ['/input', json(message)],
      ['/input/batch', json([message, message])],
    ] as const) {
      const response = await post(path, body);
      await expectError(response, status, code);
      expect(response.headers.get('retry-after')).toBe(retryAfter);
    }
  });

  it("uses the ingest's Retry-After hint", async () => {
    ingest.failWith = 'unavailable';
    ingest.retryAfterSeconds = 7;
    expect((await post('/input', json(message))).headers.get('retry-after')).toBe('7');
  });

  // That a gateway frees its slot after such a bug, and answers a call that never settles: ingest-gateway-calls.
  it('answers 500 internal for a gateway bug, and never hangs', async () => {
    const bug = () => {
      throw new TypeError('bug');
    };
    const broken = { submit: bug, submitOne: bug, isReady: async () => true };
    app = createApp({ ingest: broken });
    await expectError(await post('/input', json(message)), 500, 'internal');
    await expectError(await post('/input', json(message)), 500, 'internal');
  });
});

describe('health, readiness, metrics', () => {
  it('GET /health is 200 whatever the ingest', async () => {
    ingest.ready = false;
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready is 200 when the ingest is reachable', async () => {
    const response = await app.request('/ready');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready' });
  });

  it('GET /ready is 503 with Retry-After when it is not', async () => {
    ingest.ready = false;
    const response = await app.request('/ready');
    await expectError(response, 503, 'not_ready');
    expect(response.headers.get('retry-after')).toBe('1');
  });

  it.each<[string, () => Promise<boolean>]>([
    ['rejects', () => Promise.reject(new Error('boom'))],
    ['never answers', () => new Promise<boolean>(() => {})],
  ])('GET /ready is 503 when isReady() %s', async (_name, isReady) => {
    app = createApp({
      ingest: { submit: async () => {}, submitOne: async () => {}, isReady },
      readyTimeoutMs: 30,
    });
    await expectError(await app.request('/ready'), 503, 'not_ready');
  });

  it('GET /ready is 503 while draining', async () => {
    build({ isDraining: () => true });
    const error = await expectError(await app.request('/ready'), 503, 'not_ready');
    expect(error.message).toMatch(/shutting down/);
  });

  // The gateway's call metrics (edge_ingest_submits_in_flight, edge_messages_total) are in ingest-gateway.case.ts.
  it('GET /metrics exposes requests by route and status, latency, in-flight and Node metrics', async () => {
    await post('/input', json(message));
    await post('/input', '{');
    await app.request('/nope');
    ingest.failWith = 'unavailable';
    await post('/input/batch', json([message, message]));

    const response = await app.request('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const line of [
      'http_requests_total{method="POST",route="/input",status="202"} 1',
      'http_requests_total{method="POST",route="/input",status="400"} 1',
      'http_requests_total{method="GET",route="(unmatched)",status="404"} 1',
      'http_requests_total{method="POST",route="/input/batch",status="503"} 1',
      'http_request_duration_seconds_bucket{le="0.005",method="POST",route="/input",status="202"}',
      'http_requests_in_flight 1',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text).toContain(line);
    }
  });
});
