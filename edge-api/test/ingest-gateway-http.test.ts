// The HTTP/JSON gateway against a real in-process HTTP server serving the WeatherService paths (a test double of the
// ingest, a small Hono app on 127.0.0.1:0). The cases every gateway passes are in ingest-gateway.case.ts; here,
// what is HTTP's own.
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type HttpBindings, type ServerType, serve } from '@hono/node-server';
import { httpStatusOfGrpc, type WeatherTweet, weatherHttpPaths } from '@tandem/proto';
import { Hono } from 'hono';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp } from '../src/app.ts';
import type { IngestErrorKind } from '../src/ingest-gateway/contract.ts';
import { createIngestGateway } from '../src/ingest-gateway/create.ts';
import { GrpcIngestGateway, toIngestError } from '../src/ingest-gateway/grpc.ts';
import { HttpIngestGateway } from '../src/ingest-gateway/http.ts';
import {
  closedAfterTest,
  describeIngestGateway,
  eachResult,
  failure,
  type GatewayOptions,
  type IngestBehaviour,
  type IngestCall,
  type IngestHarness,
  ingestDoubleState,
  message,
  refusals,
  tweet,
  unusedPort,
  useIngestDouble,
} from './ingest-gateway.case.ts';

type HttpBehaviour =
  | IngestBehaviour
  | { kind: 'status'; code: number; message: string; retryAfter?: string }
  | { kind: 'raw'; code: number; body: string }
  | { kind: 'reset' };

interface ReceivedPost {
  path: string;
  contentType: string | undefined;
  /** The JSON body as sent: a WeatherTweet, or `{"tweets": [...]}`. */
  body: unknown;
}

interface HttpIngestDouble extends IngestHarness {
  /** Every POST as received, since the last reset. */
  readonly received: readonly ReceivedPost[];
  /** Connections accepted so far, to check keep-alive. */
  readonly connections: number;
  readonly address: string;
  gateway(options?: GatewayOptions): HttpIngestGateway;
  behave(behaviour: HttpBehaviour): void;
}

/** The double: the WeatherService paths answering as told and recording every POST, and GET /health. */
function httpIngestDouble(): HttpIngestDouble {
  const { state, ...controls } = ingestDoubleState<HttpBehaviour, ReceivedPost>();
  const { received } = state;
  let connections = 0;
  let address = '';
  let server: ServerType | undefined;

  async function respond(env: HttpBindings, ok: object, refusal: string): Promise<Response> {
    const current = state.behaviour;
    switch (current.kind) {
      case 'ok':
        return Response.json(ok);
      case 'unavailable':
        return Response.json({ success: false, message: 'kafka down' }, { status: 503 });
      case 'overloaded':
        return Response.json({ success: false, message: 'busy' }, { status: 429 });
      case 'status':
        return Response.json(
          { success: false, message: current.message },
          {
            status: current.code,
            headers: current.retryAfter === undefined ? {} : { 'Retry-After': current.retryAfter },
          },
        );
      case 'raw':
        return new Response(current.body, {
          status: current.code,
          headers: { 'content-type': 'text/plain' },
        });
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

  const app = new Hono<{ Bindings: HttpBindings }>();
  app.post(weatherHttpPaths.ProcessTweet, async (c) => {
    const body = await c.req.json<WeatherTweet>();
    received.push({ path: c.req.path, contentType: c.req.header('content-type'), body });
    return respond(c.env, { success: true, message: 'accepted', id: body.id }, refusals.single);
  });
  app.post(weatherHttpPaths.ProcessTweetBatch, async (c) => {
    const body = await c.req.json<{ tweets: WeatherTweet[] }>();
    received.push({ path: c.req.path, contentType: c.req.header('content-type'), body });
    const ids = body.tweets.map((t) => t.id);
    return respond(c.env, { success: true, message: 'accepted', ids }, refusals.batch);
  });
  app.post(weatherHttpPaths.ProcessTweets, async (c) => {
    const body = await c.req.json<{ tweets: WeatherTweet[] }>();
    received.push({ path: c.req.path, contentType: c.req.header('content-type'), body });
    if (state.behaviour.kind === 'refuse')
      return Response.json({ results: body.tweets.map((t) => eachResult(t, true)) });
    return respond(c.env, { results: body.tweets.map((t) => eachResult(t, false)) }, refusals.each);
  });
  app.get(weatherHttpPaths.health, (c) =>
    state.serving ? c.json({ status: 'SERVING' }) : c.json({ status: 'NOT_SERVING' }, 503),
  );

  return {
    ...controls,
    received,
    get connections() {
      return connections;
    },
    get address() {
      return address;
    },
    async start() {
      const port = await new Promise<number>((resolve) => {
        server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
      });
      server?.on('connection', () => connections++);
      address = `http://127.0.0.1:${port}`;
    },
    async stop() {
      await new Promise((resolve) => {
        server?.close(resolve);
        if (server && 'closeAllConnections' in server) server.closeAllConnections();
      });
    },
    gateway: (options: GatewayOptions = {}) =>
      closedAfterTest(new HttpIngestGateway({ address, ...options })),
    // The routes record only these three paths, and each one's body is what its route parsed.
    calls: (): IngestCall[] =>
      received.map(({ path, body }) =>
        path === weatherHttpPaths.ProcessTweet
          ? { rpc: 'single', tweets: [body as WeatherTweet] }
          : {
              rpc: path === weatherHttpPaths.ProcessTweets ? 'each' : 'batch',
              tweets: (body as { tweets: WeatherTweet[] }).tweets,
            },
      ),
    unusedAddress: async () => `http://127.0.0.1:${await unusedPort()}`,
    deadlineWording: (deadlineMs: number) => new RegExp(`^no answer from the ingest in ${deadlineMs} ms$`),
  };
}

const ingest = httpIngestDouble();
useIngestDouble(ingest);
describeIngestGateway('HttpIngestGateway', ingest);

describe('HttpIngestGateway over HTTP', () => {
  it('posts each call as JSON to its WeatherService path, the batch as {"tweets": [...]}', async () => {
    const client = ingest.gateway();
    await client.submit([message('a-1')]);
    await client.submit([message('b-1'), message('b-2')]);
    expect(ingest.received).toEqual([
      {
        path: '/weather.WeatherService/ProcessTweet',
        contentType: 'application/json',
        body: tweet('a-1', 'GT'),
      },
      {
        path: '/weather.WeatherService/ProcessTweetBatch',
        contentType: 'application/json',
        body: { tweets: [tweet('b-1', 'GT'), tweet('b-2', 'GT')] },
      },
    ]);
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
      ingest.behave({ kind: 'status', code, message: 'from the test', retryAfter: header });
      const client = ingest.gateway();
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
    ingest.behave({ kind: 'raw', code, body });
    const error = await failure(ingest.gateway().submit([message('c-3')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe(`HTTP ${code}: ${body}`);
  });

  it('maps every status the ingest sends to the kind of the gRPC status it stands for', async () => {
    const client = ingest.gateway();
    const pairs = Object.entries(httpStatusOfGrpc).map(([grpc, http]) => [Number(grpc), http] as const);
    expect(pairs.length).toBeGreaterThanOrEqual(5);
    for (const [grpc, http] of pairs) {
      ingest.behave({ kind: 'status', code: http ?? 0, message: 'x' });
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

  it('maps a 200 that is not a WeatherResponse to unavailable', async () => {
    ingest.behave({ kind: 'raw', code: 200, body: 'OK' });
    const error = await failure(ingest.gateway().submit([message('d-3')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('ingest sent an unreadable answer');
  });

  it('maps a connection reset mid-call to unavailable', async () => {
    ingest.behave({ kind: 'reset' });
    const error = await failure(ingest.gateway().submit([message('h-2')]));
    expect(error.kind).toBe('unavailable');
    expect(error.message).toMatch(/^the call failed: /);
  });

  it('reuses its keep-alive connections, also after error answers', async () => {
    const client = ingest.gateway();
    const before = ingest.connections;
    const answers: HttpBehaviour[] = [
      { kind: 'status', code: 503, message: 'down', retryAfter: '1' },
      { kind: 'raw', code: 413, body: 'too large '.repeat(100_000) }, // more than fetch buffers unread
      { kind: 'refuse' },
      { kind: 'ok' },
    ];
    for (const given of [...answers, ...answers, ...answers]) {
      ingest.behave(given);
      await client.submit([message('k-1'), message('k-2')]).catch(() => undefined);
    }
    expect(await client.isReady()).toBe(true);
    expect(ingest.received).toHaveLength(12);
    // fetch hands a connection back to its pool a moment after the body ended, so a call right after the previous
    // one may open a second; an unread body larger than fetch buffers would hold its connection for good.
    expect(ingest.connections - before).toBeLessThanOrEqual(2);
  });

  it('is not ready when /health does not answer in readyTimeoutMs', async () => {
    // A listener that accepts and never answers.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      expect(
        await ingest.gateway({ address: `http://127.0.0.1:${port}`, readyTimeoutMs: 100 }).isReady(),
      ).toBe(false);
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      silent.close();
    }
  });

  it.each(['https://127.0.0.1:1', 'http://127.0.0.1:1/ingest', 'http://127.0.0.1:1?x=1', '127.0.0.1:1'])(
    'refuses the address %s',
    (bad) => {
      expect(() => new HttpIngestGateway({ address: bad })).toThrow(TypeError);
    },
  );
});

/**
 * A stand-in for an ingest older than ProcessTweets: ProcessTweet and ProcessTweetBatch only, and for every other
 * path what grpc-ingest's HTTP app answers (404 `no route …`), or 405 as a server that knows the path but not the
 * method would. ProcessTweet answers by the id's prefix, so that one gathering holds every outcome: `invalid-` →
 * 400, `busy-` → 429, `refused-` → 200 `success: false`, `slow-` → accepted after a second, else accepted.
 */
async function olderHttpIngest(missing: 404 | 405) {
  const paths: string[] = [];
  const app = new Hono();
  app.post(weatherHttpPaths.ProcessTweet, async (c) => {
    const { id = '' } = await c.req.json<WeatherTweet>();
    paths.push(`${c.req.path} ${id}`);
    if (id.startsWith('invalid-')) return c.json({ success: false, message: 'weather: unknown' }, 400);
    if (id.startsWith('busy-')) return c.json({ success: false, message: 'at its limit' }, 429);
    if (id.startsWith('refused-')) return c.json({ success: false, message: refusals.single, id: '' });
    if (id.startsWith('slow-')) await new Promise((resolve) => setTimeout(resolve, 1_000));
    return c.json({ success: true, message: 'accepted', id });
  });
  app.post(weatherHttpPaths.ProcessTweetBatch, async (c) => {
    const { tweets } = await c.req.json<{ tweets: WeatherTweet[] }>();
    paths.push(c.req.path);
    return c.json({ success: true, message: 'accepted', ids: tweets.map((t) => t.id) });
  });
  app.notFound((c) => {
    paths.push(c.req.path);
    return c.json({ success: false, message: `no route ${c.req.method} ${c.req.path}` }, missing);
  });
  let server: ServerType | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server?.close(() => resolve());
        if (server && 'closeAllConnections' in server) server.closeAllConnections();
      }),
  );
  return { address: `http://127.0.0.1:${port}`, paths };
}

describe('HttpIngestGateway against an ingest older than ProcessTweets', () => {
  const input = { description: 'Soleado hoy', country: 'gt', weather: 'Soleado' };

  it.each([404, 405] as const)(
    'on %i sends each gathered message as a ProcessTweet of its own, each request answered from its own',
    async (missing) => {
      const older = await olderHttpIngest(missing);
      const gateway = ingest.gateway({ address: older.address, coalesceLingerMs: 50, deadlineMs: 300 });
      const app = createApp({ ingest: gateway });
      const ids = ['q-1', 'invalid-q-2', 'busy-q-3', 'refused-q-4', 'slow-q-5', 'q-6'];
      const responses = await Promise.all(
        ids.map((id) =>
          app.request('/input', {
            method: 'POST',
            body: JSON.stringify({ ...input, id }),
            headers: { 'Content-Type': 'application/json' },
          }),
        ),
      );
      const answers = await Promise.all(
        responses.map(async (r) => {
          const body = (await r.json()) as { id?: string; error?: { code: string } };
          return [r.status, body.error?.code ?? body.id];
        }),
      );
      expect(answers).toEqual([
        [202, 'q-1'],
        [400, 'rejected_by_ingest'],
        [429, 'overloaded'],
        [503, 'ingest_unavailable'],
        [503, 'ingest_timeout'],
        [202, 'q-6'],
      ]);
      // A try of ProcessTweets per gathering, then each message alone (in whatever order the ingest sees them).
      const tries = older.paths.filter((path) => path === weatherHttpPaths.ProcessTweets);
      expect(tries.length).toBeGreaterThanOrEqual(1);
      expect(older.paths.filter((path) => path !== weatherHttpPaths.ProcessTweets).sort()).toEqual(
        ids.map((id) => `${weatherHttpPaths.ProcessTweet} ${id}`).sort(),
      );
    },
  );

  it('passes any other failure of ProcessTweets on to every message, without a ProcessTweet', async () => {
    ingest.behave({ kind: 'status', code: 500, message: 'bug' });
    const client = ingest.gateway({ coalesceLingerMs: 20 });
    const errors = await Promise.all(['r-1', 'r-2'].map((id) => failure(client.submitOne(message(id)))));
    expect(errors.map((e) => [e.kind, e.message])).toEqual([
      ['unavailable', 'HTTP 500: bug'],
      ['unavailable', 'HTTP 500: bug'],
    ]);
    expect(ingest.calls().map((call) => call.rpc)).toEqual(['each']);
  });
});

describe('createIngestGateway', () => {
  it.each<[string, typeof HttpIngestGateway | typeof GrpcIngestGateway]>([
    ['http://127.0.0.1:50052', HttpIngestGateway],
    ['127.0.0.1:1', GrpcIngestGateway],
    ['grpc-ingest.tandem.svc.cluster.local:50051', GrpcIngestGateway],
  ])('builds for %s a %O', (given, type) => {
    const created = closedAfterTest(createIngestGateway(given, { deadlineMs: 100 }));
    expect(created).toBeInstanceOf(type);
  });

  it('passes the deadline on', async () => {
    ingest.behave({ kind: 'slow', ms: 1_000 });
    const created = closedAfterTest(createIngestGateway(ingest.address, { deadlineMs: 100 }));
    expect((await failure(created.submit([message('l-1')]))).kind).toBe('deadline');
  });
});

describe('the app through the HTTP gateway', () => {
  const input = { description: 'Soleado hoy', country: 'gt', weather: 'Soleado' };

  // The rows the neutral behaviours cannot express: the ingest's Retry-After hints, and statuses only HTTP sends.
  it.each<[HttpBehaviour, number, string, string]>([
    [{ kind: 'status', code: 503, message: 'kafka down', retryAfter: '5' }, 503, 'ingest_unavailable', '5'],
    [{ kind: 'status', code: 429, message: 'busy', retryAfter: '2' }, 429, 'overloaded', '2'],
    [{ kind: 'status', code: 500, message: 'bug' }, 503, 'ingest_unavailable', '1'],
    [{ kind: 'status', code: 400, message: 'bad' }, 400, 'rejected_by_ingest', ''],
  ])('answers %j with %i %s and Retry-After %s', async (given, code, errorCode, retryAfter) => {
    ingest.behave(given);
    const app = createApp({ ingest: ingest.gateway({ deadlineMs: 2_000 }) });
    const response = await app.request('/input', {
      method: 'POST',
      body: JSON.stringify(input),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status).toBe(code);
    expect(response.headers.get('retry-after') ?? '').toBe(retryAfter);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(errorCode);
  });
});
