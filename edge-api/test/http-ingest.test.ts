// The HTTP/JSON gateway against a real in-process HTTP server serving the WeatherService paths (a test double of the
// ingest, a small Hono app on 127.0.0.1:0), as grpc-ingest.test.ts does for gRPC.
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type HttpBindings, type ServerType, serve } from '@hono/node-server';
import { httpStatusOfGrpc, weatherHttpPaths } from '@tandem/proto';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { GrpcIngestGateway, toIngestError } from '../src/grpc-ingest.ts';
import { HttpIngestGateway } from '../src/http-ingest.ts';
import { IngestError, type IngestErrorKind, type IngestMessage } from '../src/ingest.ts';
import { createIngestGateway } from '../src/ingest-gateway.ts';
import { failure, message } from './gateway-support.ts';

type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; code: number; message: string; retryAfter?: string }
  | { kind: 'raw'; code: number; body: string }
  | { kind: 'refuse' }
  | { kind: 'slow'; ms: number }
  | { kind: 'reset' };

interface Tweet {
  description: string;
  country: string;
  weather: string;
  id: string;
}

const calls: { path: string; contentType: string | undefined; body: unknown }[] = [];
let behaviour: Behaviour = { kind: 'ok' };
let serving = true;
let connections = 0;

const ingest = new Hono<{ Bindings: HttpBindings }>();
ingest.post(weatherHttpPaths.ProcessTweet, async (c) => {
  const tweet = await c.req.json<Tweet>();
  calls.push({ path: c.req.path, contentType: c.req.header('content-type'), body: tweet });
  return respond(c.env, { success: true, message: 'accepted', id: tweet.id }, 'kafka did not confirm');
});
ingest.post(weatherHttpPaths.ProcessTweetBatch, async (c) => {
  const batch = await c.req.json<{ tweets: Tweet[] }>();
  calls.push({ path: c.req.path, contentType: c.req.header('content-type'), body: batch });
  const ids = batch.tweets.map((t) => t.id);
  return respond(c.env, { success: true, message: 'accepted', ids }, 'rabbitmq did not confirm');
});
ingest.get(weatherHttpPaths.health, (c) =>
  serving ? c.json({ status: 'SERVING' }) : c.json({ status: 'NOT_SERVING' }, 503),
);

async function respond(env: HttpBindings, ok: object, refusal: string): Promise<Response> {
  const current = behaviour;
  switch (current.kind) {
    case 'ok':
      return Response.json(ok);
    case 'status':
      return Response.json(
        { success: false, message: current.message },
        {
          status: current.code,
          headers: current.retryAfter === undefined ? {} : { 'Retry-After': current.retryAfter },
        },
      );
    case 'raw':
      return new Response(current.body, { status: current.code, headers: { 'content-type': 'text/plain' } });
    case 'refuse':
      return Response.json({ success: false, message: refusal });
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, current.ms));
      return Response.json(ok);
    case 'reset':
      env.incoming.socket.destroy();
      return new Response(null);
  }
}

let server: ServerType;
let address = '';
const gateways: (HttpIngestGateway | GrpcIngestGateway)[] = [];

function gateway(options: { deadlineMs?: number; readyTimeoutMs?: number; address?: string } = {}) {
  const created = new HttpIngestGateway({ address, ...options });
  gateways.push(created);
  return created;
}

/** A port nobody listens on: bind, take the port, close. */
async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: ingest.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
  server.on('connection', () => connections++);
  address = `http://127.0.0.1:${port}`;
});

afterEach(() => {
  calls.length = 0;
  behaviour = { kind: 'ok' };
  serving = true;
  for (const created of gateways.splice(0)) created.close();
});

afterAll(async () => {
  await new Promise((resolve) => {
    server.close(resolve);
    if ('closeAllConnections' in server) server.closeAllConnections();
  });
});

describe('HttpIngestGateway', () => {
  it('posts one message to ProcessTweet as a JSON WeatherTweet', async () => {
    await gateway().submit([{ ...message('a-1'), extra: 'not sent' } as IngestMessage]);
    expect(calls).toEqual([
      {
        path: '/weather.WeatherService/ProcessTweet',
        contentType: 'application/json',
        body: { description: 'Está lloviendo', country: 'GT', weather: 'Rainy', id: 'a-1' },
      },
    ]);
  });

  it('posts several to ProcessTweetBatch, ids in order (duplicates kept)', async () => {
    await gateway().submit([message('b-1', 'GT'), message('b-2', 'PERÚ'), message('b-1', 'MX')]);
    expect(calls.map((call) => call.path)).toEqual(['/weather.WeatherService/ProcessTweetBatch']);
    expect(calls[0]?.contentType).toBe('application/json');
    const tweet = (id: string, country: string) => ({
      description: 'Está lloviendo',
      country,
      weather: 'Rainy',
      id,
    });
    expect(calls[0]?.body).toEqual({
      tweets: [tweet('b-1', 'GT'), tweet('b-2', 'PERÚ'), tweet('b-1', 'MX')],
    });
  });

  it('makes no call for no messages', async () => {
    await gateway().submit([]);
    expect(calls).toEqual([]);
  });

  it.each<[number, IngestErrorKind, string | undefined, number | undefined]>([
    [400, 'invalid', undefined, undefined],
    [429, 'overloaded', '3', 3],
    [503, 'unavailable', '7', 7],
    [503, 'unavailable', 'Wed, 21 Oct 2015 07:28:00 GMT', undefined],
    [504, 'deadline', undefined, undefined],
    [500, 'unavailable', undefined, undefined],
    [404, 'unavailable', undefined, undefined],
  ])(
    'maps HTTP %i to %s (Retry-After %s → %s), for one message and for a batch',
    async (code, kind, header, seconds) => {
      behaviour = { kind: 'status', code, message: 'from the test', retryAfter: header };
      const client = gateway();
      for (const batch of [[message('c-1')], [message('c-1'), message('c-2')]]) {
        const error = await failure(client.submit(batch));
        expect(error.kind).toBe(kind);
        expect(error.message).toBe(`HTTP ${code}: from the test`);
        expect(error.retryAfterSeconds).toBe(seconds);
      }
    },
  );

  it.each([
    [413, 'request body too large'],
    [415, 'unsupported content type'],
  ])('maps a plain-text HTTP %i to unavailable, with its text', async (code, body) => {
    behaviour = { kind: 'raw', code, body };
    const error = await failure(gateway().submit([message('c-3')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe(`HTTP ${code}: ${body}`);
  });

  it('maps every status the ingest sends to the kind of the gRPC status it stands for', async () => {
    const client = gateway();
    const pairs = Object.entries(httpStatusOfGrpc).map(([grpc, http]) => [Number(grpc), http] as const);
    expect(pairs.length).toBeGreaterThanOrEqual(5);
    for (const [grpc, http] of pairs) {
      behaviour = { kind: 'status', code: http ?? 0, message: 'x' };
      const serviceError = Object.assign(new Error('x'), {
        code: grpc,
        details: 'x',
        metadata: new Metadata(),
      });
      const expected = toIngestError(serviceError as ServiceError).kind;
      expect([status[grpc], (await failure(client.submit([message('c-4')]))).kind]).toEqual([
        status[grpc],
        expected,
      ]);
    }
  });

  it('maps success:false to unavailable, for one message and for a batch', async () => {
    behaviour = { kind: 'refuse' };
    const client = gateway();
    const single = await failure(client.submit([message('d-1')]));
    expect(single.kind).toBe('unavailable');
    expect(single.message).toBe('ingest did not accept: kafka did not confirm');
    const batch = await failure(client.submit([message('d-1'), message('d-2')]));
    expect(batch.kind).toBe('unavailable');
    expect(batch.message).toBe('ingest did not accept the batch: rabbitmq did not confirm');
  });

  it('maps a 200 that is not a WeatherResponse to unavailable', async () => {
    behaviour = { kind: 'raw', code: 200, body: 'OK' };
    const error = await failure(gateway().submit([message('d-3')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('ingest sent an unreadable answer');
  });

  it('gives up at its deadline when the ingest is slow', async () => {
    behaviour = { kind: 'slow', ms: 1_000 };
    const started = Date.now();
    const error = await failure(gateway({ deadlineMs: 100 }).submit([message('e-1')]));
    expect(error.kind).toBe('deadline');
    expect(error.message).toBe('no answer from the ingest in 100 ms');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("aborts the call when the caller's signal aborts, keeping the caller's reason", async () => {
    behaviour = { kind: 'slow', ms: 1_000 };
    const controller = new AbortController();
    const started = Date.now();
    const pending = gateway().submit([message('f-1'), message('f-2')], controller.signal);
    const reason = new IngestError('deadline', 'caller gave up');
    setTimeout(() => controller.abort(reason), 50);
    expect(await failure(pending)).toBe(reason);
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("maps a caller's abort with another reason to unavailable", async () => {
    behaviour = { kind: 'slow', ms: 1_000 };
    const controller = new AbortController();
    const pending = gateway().submit([message('f-3')], controller.signal);
    setTimeout(() => controller.abort(new Error('client gone')), 50);
    const error = await failure(pending);
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('the call was cancelled');
  });

  it('does not call at all with an already aborted signal', async () => {
    const error = await failure(gateway().submit([message('g-1')], AbortSignal.abort()));
    expect(error.kind).toBe('unavailable');
    expect(calls).toEqual([]);
  });

  it('maps a connection refused to unavailable', async () => {
    const port = await unusedPort();
    const error = await failure(gateway({ address: `http://127.0.0.1:${port}` }).submit([message('h-1')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('maps a connection reset mid-call to unavailable', async () => {
    behaviour = { kind: 'reset' };
    const error = await failure(gateway().submit([message('h-2')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/^the call failed: /);
  });

  it('reuses its keep-alive connections, also after error answers', async () => {
    const client = gateway();
    const before = connections;
    const answers: Behaviour[] = [
      { kind: 'status', code: 503, message: 'down', retryAfter: '1' },
      { kind: 'raw', code: 413, body: 'too large '.repeat(100_000) }, // more than fetch buffers unread
      { kind: 'refuse' },
      { kind: 'ok' },
    ];
    for (const given of [...answers, ...answers, ...answers]) {
      behaviour = given;
      await client.submit([message('k-1'), message('k-2')]).catch(() => undefined);
    }
    expect(await client.isReady()).toBe(true);
    expect(calls).toHaveLength(12);
    // fetch hands a connection back to its pool a moment after the body ended, so a call right after the previous
    // one may open a second; an unread body larger than fetch buffers would hold its connection for good.
    expect(connections - before).toBeLessThanOrEqual(2);
  });

  it('is ready while the ingest serves, not while NOT_SERVING, not when nothing listens, nor once closed', async () => {
    const client = gateway();
    expect(await client.isReady()).toBe(true);
    serving = false;
    expect(await client.isReady()).toBe(false);
    serving = true;
    const port = await unusedPort();
    expect(await gateway({ address: `http://127.0.0.1:${port}` }).isReady()).toBe(false);
    client.close();
    expect(await client.isReady()).toBe(false);
  });

  it('is not ready when /health does not answer in readyTimeoutMs', async () => {
    // A listener that accepts and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      expect(await gateway({ address: `http://127.0.0.1:${port}`, readyTimeoutMs: 100 }).isReady()).toBe(
        false,
      );
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      silent.close();
    }
  });

  it('refuses to submit once closed, with unavailable', async () => {
    const client = gateway();
    client.close();
    const error = await failure(client.submit([message('i-1')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('the ingest gateway is closed');
    expect(calls).toEqual([]);
  });

  it.each(['https://127.0.0.1:1', 'http://127.0.0.1:1/ingest', 'http://127.0.0.1:1?x=1', '127.0.0.1:1'])(
    'refuses the address %s',
    (bad) => {
      expect(() => new HttpIngestGateway({ address: bad })).toThrow(TypeError);
    },
  );
});

describe('createIngestGateway', () => {
  it.each<[string, typeof HttpIngestGateway | typeof GrpcIngestGateway]>([
    ['http://127.0.0.1:50052', HttpIngestGateway],
    ['127.0.0.1:1', GrpcIngestGateway],
    ['grpc-ingest.tandem.svc.cluster.local:50051', GrpcIngestGateway],
  ])('builds for %s a %O', (given, type) => {
    const created = createIngestGateway(given, { deadlineMs: 100 });
    gateways.push(created);
    expect(created).toBeInstanceOf(type);
  });

  it('passes the deadline on', async () => {
    behaviour = { kind: 'slow', ms: 1_000 };
    const created = createIngestGateway(address, { deadlineMs: 100 });
    gateways.push(created);
    expect((await failure(created.submit([message('l-1')]))).kind).toBe('deadline');
  });
});

describe('the app through the HTTP gateway', () => {
  const post = (app: ReturnType<typeof createApp>, path: string, body: unknown) =>
    app.request(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
  const input = { description: 'Soleado hoy', country: 'gt', weather: 'Soleado' };

  it('answers 202 after ProcessTweet / ProcessTweetBatch succeeded', async () => {
    const app = createApp({ ingest: gateway() });
    const single = await post(app, '/input', { ...input, id: 'j-1' });
    expect(single.status).toBe(202);
    expect(await single.json()).toEqual({ id: 'j-1', status: 'accepted' });
    const batch = await post(app, '/input/batch', [input, { ...input, id: 'j-2' }]);
    expect(batch.status).toBe(202);
    expect(calls.map((call) => call.path)).toEqual([
      weatherHttpPaths.ProcessTweet,
      weatherHttpPaths.ProcessTweetBatch,
    ]);
    expect(calls[0]?.body).toEqual({
      description: 'Soleado hoy',
      country: 'GT',
      weather: 'Sunny',
      id: 'j-1',
    });
    expect((await app.request('/ready')).status).toBe(200);
    serving = false;
    expect((await app.request('/ready')).status).toBe(503);
  });

  it.each<[Behaviour, number, string, string]>([
    [{ kind: 'status', code: 503, message: 'kafka down', retryAfter: '5' }, 503, 'ingest_unavailable', '5'],
    [{ kind: 'status', code: 429, message: 'busy', retryAfter: '2' }, 429, 'overloaded', '2'],
    [{ kind: 'status', code: 500, message: 'bug' }, 503, 'ingest_unavailable', '1'],
    [{ kind: 'status', code: 400, message: 'bad' }, 400, 'rejected_by_ingest', ''],
    [{ kind: 'refuse' }, 503, 'ingest_unavailable', '1'],
    [{ kind: 'slow', ms: 1_000 }, 503, 'ingest_timeout', '1'],
  ])('answers %j with %i %s and Retry-After %s', async (given, code, errorCode, retryAfter) => {
    behaviour = given;
    const app = createApp({ ingest: gateway({ deadlineMs: 100 }) });
    const response = await post(app, '/input', input);
    expect(response.status).toBe(code);
    expect(response.headers.get('retry-after') ?? '').toBe(retryAfter);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(errorCode);
  });
});
