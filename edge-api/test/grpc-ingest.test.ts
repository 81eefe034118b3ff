// The gRPC gateway against a real in-process grpc-js server implementing WeatherService (a test double of the
// ingest: the real one is tested end to end elsewhere).
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import {
  healthHandlers,
  healthService,
  loadWeatherPackage,
  type WeatherBatchResponse,
  type WeatherResponse,
  type WeatherServiceHandlers,
  type WeatherTweet__Output,
  type WeatherTweetBatch__Output,
} from '@tandem/proto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.ts';
import { GrpcIngestGateway, ingestTarget } from '../src/grpc-ingest.ts';
import { IngestError, type IngestErrorKind } from '../src/ingest.ts';
import { failure, message } from './gateway-support.ts';

type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; code: status; details: string }
  | { kind: 'refuse'; message: string }
  | { kind: 'slow'; ms: number };

const calls: {
  method: 'ProcessTweet' | 'ProcessTweetBatch';
  tweets: WeatherTweet__Output[];
  deadline?: number;
}[] = [];
let behaviour: Behaviour = { kind: 'ok' };

function respond<Res>(callback: sendUnaryData<Res>, ok: Res, refused: Res): void {
  const current = behaviour;
  switch (current.kind) {
    case 'ok':
      callback(null, ok);
      return;
    case 'status':
      callback({ code: current.code, details: current.details });
      return;
    case 'refuse':
      callback(null, refused);
      return;
    case 'slow':
      setTimeout(() => callback(null, ok), current.ms).unref();
  }
}

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  return deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
}

const handlers: WeatherServiceHandlers = {
  ProcessTweet(call: ServerUnaryCall<WeatherTweet__Output, WeatherResponse>, callback) {
    calls.push({ method: 'ProcessTweet', tweets: [call.request], deadline: deadlineOf(call) });
    respond(
      callback,
      { success: true, message: 'accepted', id: call.request.id },
      { success: false, message: 'kafka did not confirm', id: '' },
    );
  },
  ProcessTweetBatch(call: ServerUnaryCall<WeatherTweetBatch__Output, WeatherBatchResponse>, callback) {
    calls.push({ method: 'ProcessTweetBatch', tweets: call.request.tweets, deadline: deadlineOf(call) });
    respond(
      callback,
      { success: true, message: 'accepted', ids: call.request.tweets.map((t) => t.id) },
      { success: false, message: 'rabbitmq did not confirm', ids: [] },
    );
  },
};

const server = new Server();
let address = '';
const gateways: GrpcIngestGateway[] = [];

function gateway(options: { deadlineMs?: number; readyTimeoutMs?: number; address?: string } = {}) {
  const created = new GrpcIngestGateway({ address, ...options });
  gateways.push(created);
  return created;
}

beforeAll(async () => {
  server.addService(loadWeatherPackage().weather.WeatherService.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterEach(() => {
  calls.length = 0;
  behaviour = { kind: 'ok' };
  for (const created of gateways.splice(0)) created.close();
});

afterAll(() => {
  server.forceShutdown();
});

describe('GrpcIngestGateway', () => {
  it('sends one message with ProcessTweet, with its id and a deadline', async () => {
    const before = Date.now();
    await gateway({ deadlineMs: 3_000 }).submit([message('a-1')]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.method).toBe('ProcessTweet');
    expect(calls[0]?.tweets).toEqual([
      { description: 'Está lloviendo', country: 'GT', weather: 'Rainy', id: 'a-1', accepted_at_ms: 0 },
    ]);
    const deadline = calls[0]?.deadline ?? Number.NaN;
    expect(deadline).toBeGreaterThan(before + 2_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 3_000);
  });

  it('sends several with one ProcessTweetBatch, ids in order (duplicates kept)', async () => {
    await gateway().submit([message('b-1', 'GT'), message('b-2', 'PERÚ'), message('b-1', 'MX')]);
    expect(calls.map((call) => call.method)).toEqual(['ProcessTweetBatch']);
    expect(calls[0]?.tweets.map((t) => [t.id, t.country])).toEqual([
      ['b-1', 'GT'],
      ['b-2', 'PERÚ'],
      ['b-1', 'MX'],
    ]);
    expect(calls[0]?.deadline).toBeDefined();
  });

  it('makes no call for no messages', async () => {
    await gateway().submit([]);
    expect(calls).toEqual([]);
  });

  it.each<[string, status, IngestErrorKind]>([
    ['UNAVAILABLE', status.UNAVAILABLE, 'unavailable'],
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED, 'deadline'],
    ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED, 'overloaded'],
    ['INVALID_ARGUMENT', status.INVALID_ARGUMENT, 'invalid'],
    ['INTERNAL', status.INTERNAL, 'unavailable'],
    ['UNIMPLEMENTED', status.UNIMPLEMENTED, 'unavailable'],
  ])('maps %s to %s, for one message and for a batch', async (_name, code, kind) => {
    behaviour = { kind: 'status', code, details: 'from the test' };
    const client = gateway();
    for (const batch of [[message('c-1')], [message('c-1'), message('c-2')]]) {
      const error = await failure(client.submit(batch));
      expect(error.kind).toBe(kind);
      expect(error.message).toContain('from the test');
    }
  });

  it('maps success:false to unavailable, for one message and for a batch', async () => {
    behaviour = { kind: 'refuse', message: '' };
    const client = gateway();
    const single = await failure(client.submit([message('d-1')]));
    expect(single.kind).toBe('unavailable');
    expect(single.message).toContain('kafka did not confirm');
    const batch = await failure(client.submit([message('d-1'), message('d-2')]));
    expect(batch.kind).toBe('unavailable');
    expect(batch.message).toContain('rabbitmq did not confirm');
  });

  it('gives up at its deadline when the ingest is slow', async () => {
    behaviour = { kind: 'slow', ms: 1_000 };
    const started = Date.now();
    const error = await failure(gateway({ deadlineMs: 100 }).submit([message('e-1')]));
    expect(error.kind).toBe('deadline');
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("cancels the call when the caller's signal aborts, keeping the caller's reason", async () => {
    behaviour = { kind: 'slow', ms: 1_000 };
    const controller = new AbortController();
    const pending = gateway().submit([message('f-1'), message('f-2')], controller.signal);
    setTimeout(() => controller.abort(new IngestError('deadline', 'caller gave up')), 50);
    const error = await failure(pending);
    expect(error.kind).toBe('deadline');
    expect(error.message).toBe('caller gave up');
  });

  it('does not call at all with an already aborted signal', async () => {
    const error = await failure(gateway().submit([message('g-1')], AbortSignal.abort()));
    expect(error.kind).toBe('unavailable');
    expect(calls).toEqual([]);
  });

  it('maps a connection refused to unavailable', async () => {
    // A port nobody listens on: bind, take the port, close.
    const probe = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      probe.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    probe.forceShutdown();
    const error = await failure(
      gateway({ address: `127.0.0.1:${port}`, deadlineMs: 2_000 }).submit([message('h-1')]),
    );
    expect(error.kind).toBe('unavailable');
  });

  it('is ready when the ingest answers, not when nothing listens, nor once closed', async () => {
    const client = gateway();
    expect(await client.isReady()).toBe(true);
    expect(await gateway({ address: '127.0.0.1:1', readyTimeoutMs: 200 }).isReady()).toBe(false);
    client.close();
    expect(await client.isReady()).toBe(false);
  });

  it("is not ready while the ingest's health service says NOT_SERVING (a broker down)", async () => {
    let serving = false;
    const ingest = new Server();
    ingest.addService(loadWeatherPackage().weather.WeatherService.service, handlers);
    ingest.addService(
      healthService,
      healthHandlers(() => serving),
    );
    const port = await new Promise<number>((resolve, reject) =>
      ingest.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    try {
      const client = gateway({ address: `127.0.0.1:${port}` });
      expect(await client.isReady()).toBe(false);
      serving = true;
      expect(await client.isReady()).toBe(true);
    } finally {
      ingest.forceShutdown();
    }
  });

  it('refuses to submit once closed, with unavailable', async () => {
    const client = gateway();
    client.close();
    expect((await failure(client.submit([message('i-1')]))).kind).toBe('unavailable');
    expect(calls).toEqual([]);
  });

  it.each([
    ['127.0.0.1:50051', 'dns:///127.0.0.1:50051'],
    ['grpc-ingest.tandem.svc:50051', 'dns:///grpc-ingest.tandem.svc:50051'],
    ['dns:///ingest:50051', 'dns:///ingest:50051'],
    ['ipv4:10.0.0.1:50051,10.0.0.2:50051', 'ipv4:10.0.0.1:50051,10.0.0.2:50051'],
    ['unix:/tmp/ingest.sock', 'unix:/tmp/ingest.sock'],
  ])('targets %s as %s', (input, target) => {
    expect(ingestTarget(input)).toBe(target);
  });
});

describe('the app through the gRPC gateway', () => {
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
    expect(await single.json()).toEqual({ id: 'j-1', status: 'accepted' });
    const batch = await post(app, '/input/batch', [input, { ...input, id: 'j-2' }]);
    expect(batch.status).toBe(202);
    expect(calls.map((call) => [call.method, call.tweets.map((t) => t.weather)])).toEqual([
      ['ProcessTweet', ['Sunny']],
      ['ProcessTweetBatch', ['Sunny', 'Sunny']],
    ]);
    expect((await app.request('/ready')).status).toBe(200);
  });

  it.each<[Behaviour, number, string]>([
    [{ kind: 'status', code: status.UNAVAILABLE, details: 'kafka down' }, 503, 'ingest_unavailable'],
    [{ kind: 'status', code: status.RESOURCE_EXHAUSTED, details: 'busy' }, 429, 'overloaded'],
    [{ kind: 'refuse', message: '' }, 503, 'ingest_unavailable'],
    [{ kind: 'slow', ms: 1_000 }, 503, 'ingest_timeout'],
  ])('answers %j with %i %s and Retry-After', async (given, code, errorCode) => {
    behaviour = given;
    const app = createApp({ ingest: gateway({ deadlineMs: 100 }) });
    const response = await post(app, '/input', input);
    expect(response.status).toBe(code);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(errorCode);
  });
});
