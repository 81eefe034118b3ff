// The gRPC gateway against a real in-process grpc-js server implementing WeatherService and the health service (a
// test double of the ingest: the real one is tested end to end elsewhere). The cases every gateway passes are in
// ingest-gateway.case.ts; here, what is gRPC's own.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import {
  healthHandlers,
  healthService,
  loadWeatherPackage,
  type WeatherBatchResponse,
  type WeatherResponse,
  type WeatherResults,
  type WeatherServiceHandlers,
  type WeatherTweet__Output,
  type WeatherTweetBatch__Output,
  type WeatherTweets__Output,
} from '@tandem/proto';
import { describe, expect, it } from 'vitest';
import type { IngestErrorKind } from '../src/ingest-gateway/contract.ts';
import { GrpcIngestGateway, ingestTarget } from '../src/ingest-gateway/grpc.ts';
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
  unusedPort,
  useIngestDouble,
} from './ingest-gateway.case.ts';

type GrpcBehaviour = IngestBehaviour | { kind: 'status'; code: status; details: string };

interface ReceivedCall {
  method: 'ProcessTweet' | 'ProcessTweetBatch' | 'ProcessTweets';
  /** As the ingest decodes them, proto3 defaults filled in. */
  tweets: WeatherTweet__Output[];
  deadline?: number;
}

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const deadline = call.getDeadline();
  return deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined;
}

interface GrpcIngestDouble extends IngestHarness {
  /** Every call as received, since the last reset. */
  readonly received: readonly ReceivedCall[];
  gateway(options?: GatewayOptions): GrpcIngestGateway;
  behave(behaviour: GrpcBehaviour): void;
}

/**
 * The double: WeatherService answering as told, recording every call with its deadline, and the health service
 * unless `health: false` (an ingest without it).
 */
function grpcIngestDouble({ health = true, each = true } = {}): GrpcIngestDouble {
  const { state, ...controls } = ingestDoubleState<GrpcBehaviour, ReceivedCall>();
  const { received } = state;
  let address = '';
  const server = new Server();

  function respond<Res>(callback: sendUnaryData<Res>, ok: Res, refused: Res): void {
    const current = state.behaviour;
    switch (current.kind) {
      case 'ok':
        callback(null, ok);
        return;
      case 'unavailable':
        callback({ code: status.UNAVAILABLE, details: 'kafka down' });
        return;
      case 'overloaded':
        callback({ code: status.RESOURCE_EXHAUSTED, details: 'busy' });
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

  const handlers: WeatherServiceHandlers = {
    ProcessTweet(call: ServerUnaryCall<WeatherTweet__Output, WeatherResponse>, callback) {
      received.push({ method: 'ProcessTweet', tweets: [call.request], deadline: deadlineOf(call) });
      respond(
        callback,
        { success: true, message: 'accepted', id: call.request.id },
        { success: false, message: refusals.single, id: '' },
      );
    },
    ProcessTweetBatch(call: ServerUnaryCall<WeatherTweetBatch__Output, WeatherBatchResponse>, callback) {
      received.push({ method: 'ProcessTweetBatch', tweets: call.request.tweets, deadline: deadlineOf(call) });
      respond(
        callback,
        { success: true, message: 'accepted', ids: call.request.tweets.map((t) => t.id) },
        { success: false, message: refusals.batch, ids: [] },
      );
    },
    ProcessTweets(call: ServerUnaryCall<WeatherTweets__Output, WeatherResults>, callback) {
      received.push({ method: 'ProcessTweets', tweets: call.request.tweets, deadline: deadlineOf(call) });
      const { tweets } = call.request;
      respond(
        callback,
        { results: tweets.map((t) => eachResult(t, false)) },
        { results: tweets.map((t) => eachResult(t, true)) },
      );
    },
  };

  return {
    ...controls,
    received,
    async start() {
      // Without ProcessTweets: an ingest older than the edge, which grpc-js answers UNIMPLEMENTED for it.
      const { ProcessTweets: _, ...older } = handlers;
      server.addService(loadWeatherPackage().weather.WeatherService.service, each ? handlers : older);
      if (health)
        server.addService(
          healthService,
          healthHandlers(() => state.serving),
        );
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
          error ? reject(error) : resolve(bound),
        ),
      );
      address = `127.0.0.1:${port}`;
    },
    async stop() {
      server.forceShutdown();
    },
    gateway: (options: GatewayOptions = {}) =>
      closedAfterTest(new GrpcIngestGateway({ address, ...options })),
    calls: (): IngestCall[] =>
      received.map(({ method, tweets }) => ({
        rpc: method === 'ProcessTweet' ? 'single' : method === 'ProcessTweetBatch' ? 'batch' : 'each',
        // accepted_at_ms is the ingest's to set: always 0 from the edge, checked below.
        tweets: tweets.map(({ accepted_at_ms: _, ...tweet }) => tweet),
      })),
    unusedAddress: async () => `127.0.0.1:${await unusedPort()}`,
    deadlineWording: () => /^DEADLINE_EXCEEDED: /,
  };
}

const ingest = grpcIngestDouble();
useIngestDouble(ingest);
describeIngestGateway('GrpcIngestGateway', ingest);

describe('GrpcIngestGateway over gRPC', () => {
  it('sends every call with its deadline, and leaves accepted_at_ms to the ingest', async () => {
    const before = Date.now();
    const client = ingest.gateway({ deadlineMs: 3_000 });
    await client.submit([message('a-1')]);
    await client.submit([message('b-1'), message('b-2')]);
    expect(ingest.received.map((call) => call.method)).toEqual(['ProcessTweet', 'ProcessTweetBatch']);
    for (const call of ingest.received) {
      const deadline = call.deadline ?? Number.NaN;
      expect(deadline).toBeGreaterThan(before + 2_000);
      expect(deadline).toBeLessThanOrEqual(Date.now() + 3_000);
      expect(call.tweets.map((t) => t.accepted_at_ms)).toEqual(call.tweets.map(() => 0));
    }
  });

  it.each<[string, status, IngestErrorKind]>([
    ['UNAVAILABLE', status.UNAVAILABLE, 'unavailable'],
    ['DEADLINE_EXCEEDED', status.DEADLINE_EXCEEDED, 'deadline'],
    ['RESOURCE_EXHAUSTED', status.RESOURCE_EXHAUSTED, 'overloaded'],
    ['INVALID_ARGUMENT', status.INVALID_ARGUMENT, 'invalid'],
    ['INTERNAL', status.INTERNAL, 'unavailable'],
    ['UNIMPLEMENTED', status.UNIMPLEMENTED, 'unavailable'],
  ])('maps %s to %s, for one message and for a batch', async (_name, code, kind) => {
    ingest.behave({ kind: 'status', code, details: 'from the test' });
    const client = ingest.gateway();
    for (const batch of [[message('c-1')], [message('c-1'), message('c-2')]]) {
      const error = await failure(client.submit(batch));
      expect(error.kind).toBe(kind);
      expect(error.message).toContain('from the test');
    }
  });

  it('counts an ingest without the health service ready once connected (UNIMPLEMENTED)', async () => {
    const withoutHealth = grpcIngestDouble({ health: false });
    await withoutHealth.start();
    try {
      expect(await withoutHealth.gateway().isReady()).toBe(true);
    } finally {
      await withoutHealth.stop();
    }
  });

  it('sends a gathering as one ProcessTweet per message to an ingest without ProcessTweets (UNIMPLEMENTED)', async () => {
    const older = grpcIngestDouble({ each: false });
    await older.start();
    try {
      const client = older.gateway({ coalesceLingerMs: 20 });
      const outcomes = await Promise.allSettled(['o-1', 'o-2'].map((id) => client.submitOne(message(id))));
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(older.received.map((call) => [call.method, call.tweets.map((t) => t.id)])).toEqual([
        ['ProcessTweet', ['o-1']],
        ['ProcessTweet', ['o-2']],
      ]);
      older.behave({ kind: 'refuse' });
      const refused = await failure(client.submitOne(message('o-3')));
      expect([refused.kind, refused.message]).toEqual([
        'unavailable',
        `ingest did not accept: ${refusals.single}`,
      ]);
    } finally {
      await older.stop();
    }
  });

  it('answers a ProcessTweet that misses its deadline in that fallback as a timeout, not as unavailable', async () => {
    const older = grpcIngestDouble({ each: false });
    await older.start();
    try {
      older.behave({ kind: 'slow', ms: 1_000 });
      const client = older.gateway({ coalesceLingerMs: 20, deadlineMs: 200 });
      const errors = await Promise.all(['t-1', 't-2'].map((id) => failure(client.submitOne(message(id)))));
      expect(errors.map((e) => e.kind)).toEqual(['deadline', 'deadline']);
      expect(errors[0]?.message).toMatch(/^ingest did not accept: DEADLINE_EXCEEDED: /);
      expect(older.received.map((call) => call.method)).toEqual(['ProcessTweet', 'ProcessTweet']);
    } finally {
      await older.stop();
    }
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
