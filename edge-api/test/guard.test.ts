// The guarded edge, in-process (`app.request`): API keys (401, 403, 202) and the per-client rate limit (429),
// each refusal with nothing submitted; and no key in any answer or log line.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AppOptions, createApp, type ErrorBody } from '../src/app.ts';
import { JSON_TYPE, json, message } from './cases.ts';
import { MemoryIngest } from './memory-ingest.ts';

const KEYS = ['key-one-0123456789abcdef', 'key-two-0123456789abcdef'] as const;
const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });

let ingest: MemoryIngest;
let app: ReturnType<typeof createApp>;
let logLines: string[];

function build(options: Partial<AppOptions> = {}) {
  ingest = new MemoryIngest();
  logLines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  app = createApp({ ingest, logger: pino({ level: 'trace' }, sink), ...options });
}

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  app.request(path, { method: 'POST', body, headers: { ...JSON_TYPE, ...headers } });

async function expectError(response: Response, status: number, code: string): Promise<ErrorBody['error']> {
  const text = await response.text();
  const body = JSON.parse(text) as ErrorBody;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Array.isArray(body.error.details)).toBe(true);
  for (const key of KEYS) expect(text).not.toContain(key);
  return body.error;
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await app.request('/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return Number(line?.split(' ').at(-1));
}

describe('API keys', () => {
  beforeEach(() => build({ apiKeys: KEYS }));

  it.each([
    ['no Authorization header', {}],
    ['an empty one', { Authorization: '' }],
    ['"Bearer" with no key', { Authorization: 'Bearer' }],
    ['"Bearer " and spaces', { Authorization: 'Bearer    ' }],
    ['another scheme', { Authorization: `Basic ${Buffer.from(`u:${KEYS[0]}`).toString('base64')}` }],
    ['the key alone', { Authorization: KEYS[0] }],
    ['a key with a space inside', { Authorization: 'Bearer key one' }],
    ['the key as X-API-Key (not read)', { 'X-API-Key': KEYS[0] }],
  ])('401 api_key_required with WWW-Authenticate for %s; nothing submitted', async (_name, headers) => {
    const response = await post('/input', json(message), headers);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="tandem"/);
    const error = await expectError(response, 401, 'api_key_required');
    expect(error.message).toMatch(/Bearer <key>/);
    expect(ingest.submitted).toEqual([]);
  });

  it.each([
    ['a wrong key', 'wrong-key-0123456789abcdef'],
    ['a prefix of a key', KEYS[0].slice(0, -1)],
    ['a key and one more character', `${KEYS[0]}f`],
    ['a key in capitals', KEYS[0].toUpperCase()],
    ['both keys joined', `${KEYS[0]}${KEYS[1]}`],
  ])('403 api_key_invalid for %s; nothing submitted', async (_name, key) => {
    const response = await post('/input', json(message), bearer(key));
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tandem", error="invalid_token"');
    await expectError(response, 403, 'api_key_invalid');
    expect(ingest.submitted).toEqual([]);
  });

  it('accepts each key, on /input and /input/batch, the scheme in any case', async () => {
    expect((await post('/input', json(message), bearer(KEYS[0]))).status).toBe(202);
    expect((await post('/input', json(message), { Authorization: `bearer ${KEYS[1]}` })).status).toBe(202);
    expect((await post('/input/batch', json([message, message]), bearer(KEYS[1]))).status).toBe(202);
    expect(ingest.submitted).toHaveLength(3);
  });

  it('refuses the batch route alike', async () => {
    await expectError(await post('/input/batch', json([message])), 401, 'api_key_required');
    await expectError(
      await post('/input/batch', json([message]), bearer('x'.repeat(20))),
      403,
      'api_key_invalid',
    );
    expect(ingest.submitted).toEqual([]);
  });

  it('answers before reading the body: bad input without a key is a 401, with a key a 400', async () => {
    await expectError(await post('/input', '{'), 401, 'api_key_required');
    await expectError(await post('/input', '{', bearer('w'.repeat(20))), 403, 'api_key_invalid');
    await expectError(await post('/input', '{', bearer(KEYS[0])), 400, 'invalid_json');
  });

  it('keeps /health, /ready and /metrics open, and other methods a 405', async () => {
    for (const path of ['/health', '/ready', '/metrics']) expect((await app.request(path)).status).toBe(200);
    await expectError(await app.request('/input'), 405, 'method_not_allowed');
    await expectError(await app.request('/nope', { method: 'POST' }), 404, 'not_found');
  });

  it('counts refusals by reason in /metrics', async () => {
    await post('/input', json(message));
    await post('/input', json(message), bearer('wrong-key-0123456789abcdef'));
    await post('/input', json(message), bearer('wrong-key-0123456789abcdef'));
    expect(await metric('edge_requests_refused_total', 'reason="missing_key"')).toBe(1);
    expect(await metric('edge_requests_refused_total', 'reason="invalid_key"')).toBe(2);
    expect(await metric('edge_requests_refused_total', 'reason="rate_limited"')).toBe(0);
  });

  it('logs no key, at trace level, whatever happened', async () => {
    await post('/input', json(message), bearer(KEYS[0]));
    await post('/input', '{', bearer(KEYS[1]));
    await post('/input', json(message), bearer(`${KEYS[0]}x`));
    ingest.failWith = 'unavailable';
    await post('/input/batch', json([message]), bearer(KEYS[1]));
    expect(logLines.length).toBeGreaterThan(3);
    for (const key of KEYS) expect(logLines.filter((line) => line.includes(key))).toEqual([]);
  });
});

describe('without keys (the default)', () => {
  it('takes messages without Authorization, and ignores one', async () => {
    build();
    expect((await post('/input', json(message))).status).toBe(202);
    expect((await post('/input', json(message), bearer('anything-at-all-here'))).status).toBe(202);
  });
});

describe('the rate limit', () => {
  let clock: number;
  const rateLimit = (perSecond: number, burst: number) => ({ perSecond, burst, now: () => clock });
  beforeEach(() => {
    clock = 0;
  });

  it('429 rate_limited with Retry-After over the burst; nothing submitted; passes again after refill', async () => {
    build({ rateLimit: rateLimit(1, 3) });
    for (let i = 0; i < 3; i++) expect((await post('/input', json(message))).status).toBe(202);
    const response = await post('/input', json({ ...message, id: 'over' }));
    expect(response.headers.get('retry-after')).toBe('1');
    const error = await expectError(response, 429, 'rate_limited');
    expect(error.message).toMatch(/1 messages per second, 3 at once/);
    expect(ingest.submitted).toHaveLength(3);
    clock += 1000;
    expect((await post('/input', json({ ...message, id: 'over' }))).status).toBe(202);
    expect(await metric('edge_requests_refused_total', 'reason="rate_limited"')).toBe(1);
  });

  it('charges a batch its message count; Retry-After is the whole seconds to refill that many', async () => {
    build({ rateLimit: rateLimit(2, 10) });
    expect((await post('/input/batch', json(Array(10).fill(message)))).status).toBe(202);
    const response = await post('/input/batch', json(Array(6).fill(message)));
    expect(response.headers.get('retry-after')).toBe('3');
    await expectError(response, 429, 'rate_limited');
    expect(ingest.submitted).toHaveLength(1);
  });

  it('lets a batch larger than the burst through when the bucket is full, then waits out the debt', async () => {
    build({ rateLimit: rateLimit(1, 3) });
    expect((await post('/input/batch', json(Array(5).fill(message)))).status).toBe(202);
    const response = await post('/input', json(message));
    expect(response.headers.get('retry-after')).toBe('3');
  });

  it('charges nothing for bad input, and still answers it 400 when the bucket is empty', async () => {
    build({ rateLimit: rateLimit(1, 1) });
    await expectError(await post('/input', json({ ...message, weather: 'Hail' })), 400, 'invalid_message');
    expect((await post('/input', json(message))).status).toBe(202);
    await expectError(await post('/input/batch', json([{}])), 400, 'invalid_message');
    await expectError(await post('/input', json(message)), 429, 'rate_limited');
  });

  it('keys the bucket by API key when keys are on', async () => {
    build({ apiKeys: KEYS, rateLimit: rateLimit(1, 1) });
    expect((await post('/input', json(message), bearer(KEYS[0]))).status).toBe(202);
    await expectError(await post('/input', json(message), bearer(KEYS[0])), 429, 'rate_limited');
    expect((await post('/input', json(message), bearer(KEYS[1]))).status).toBe(202);
    // Refused keys take nothing from anyone.
    await expectError(await post('/input', json(message)), 401, 'api_key_required');
  });

  it('ignores X-Forwarded-For unless proxies are trusted', async () => {
    build({ rateLimit: rateLimit(1, 1) });
    expect((await post('/input', json(message), { 'X-Forwarded-For': '10.0.0.1' })).status).toBe(202);
    await expectError(
      await post('/input', json(message), { 'X-Forwarded-For': '10.0.0.2' }),
      429,
      'rate_limited',
    );
  });

  it('with one trusted proxy, takes the address it appended, not what the client wrote', async () => {
    build({ rateLimit: rateLimit(1, 1), trustedProxies: 1 });
    const from = (forwarded: string) => post('/input', json(message), { 'X-Forwarded-For': forwarded });
    expect((await from('203.0.113.7')).status).toBe(202);
    expect((await from('198.51.100.9')).status).toBe(202);
    // A client writing its own X-Forwarded-For: the proxy appended the real address, which is the one used.
    await expectError(await from('192.0.2.1, 203.0.113.7'), 429, 'rate_limited');
    await expectError(await from('192.0.2.2, 203.0.113.7'), 429, 'rate_limited');
  });

  it('shows the buckets in memory in /metrics', async () => {
    build({ rateLimit: rateLimit(1, 5), trustedProxies: 1 });
    for (const address of ['a', 'b', 'c'])
      await post('/input', json(message), { 'X-Forwarded-For': address });
    const text = await (await app.request('/metrics')).text();
    expect(text).toContain('edge_rate_limit_buckets 3');
  });
});
