/**
 * The conformance suite both IngestGateways pass: `ingest-gateway-grpc.test.ts` and `ingest-gateway-http.test.ts`
 * each run it against their real in-process test double of the ingest, driven through `IngestHarness` in
 * transport-neutral terms. What only one transport has (its status table, gRPC's deadline on the call, HTTP's
 * Retry-After hints, …) stays in its file; what only a broken transport shows (one that throws, or never settles)
 * is tested on `IngestCalls`, the part both share, in `ingest-gateway-calls.test.ts`.
 *
 * Where the two differ within these cases:
 * - A missed deadline is worded differently (grpc-js's `DEADLINE_EXCEEDED: …`, the HTTP gateway's own
 *   `no answer from the ingest in N ms`): the harness says which, in `deadlineWording`.
 * - gRPC fills in proto3 defaults (`accepted_at_ms: 0`) on what its double receives: `calls()` leaves them out,
 *   `ingest-gateway-grpc.test.ts` checks them.
 * - Only an HTTP ingest can send a Retry-After hint: the neutral behaviours send none, so the app answers its default
 *   (1 s) through either gateway; `ingest-gateway-http.test.ts` checks that hints pass through.
 * - An ingest without a health service (UNIMPLEMENTED) counts as ready over gRPC once connected: checked in
 *   `ingest-gateway-grpc.test.ts`, since every HTTP ingest serves /health.
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import type { WeatherTweet } from '@tandem/proto';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import { IngestError, type IngestGateway, type IngestMessage } from '../src/ingest-gateway/contract.ts';

/** How the double answers the calls that follow, in terms both transports can express. */
export type IngestBehaviour =
  | { kind: 'ok' }
  /** The ingest or a broker is down: gRPC UNAVAILABLE, HTTP 503 (no Retry-After). */
  | { kind: 'unavailable' }
  /** Refused for load: gRPC RESOURCE_EXHAUSTED, HTTP 429 (no Retry-After). */
  | { kind: 'overloaded' }
  /** Answers `success: false`, as when a broker did not confirm, with the message in `refusals`. */
  | { kind: 'refuse' }
  /** Answers ok, after `ms`. */
  | { kind: 'slow'; ms: number };

/** What the double's `success: false` says, per call, so that a case can tell which call refused. */
export const refusals = Object.freeze({
  single: 'kafka did not confirm',
  batch: 'rabbitmq did not confirm',
  each: 'neither confirmed',
});

/**
 * A call the double received: the single (ProcessTweet), the batch (ProcessTweetBatch) or the each
 * (ProcessTweets) call, and its tweets.
 */
export interface IngestCall {
  rpc: 'single' | 'batch' | 'each';
  tweets: WeatherTweet[];
}

/**
 * How the double answers one message of a ProcessTweets call under `ok` (and `slow`): by its id's prefix,
 * `refused-` → UNAVAILABLE (a broker did not confirm it), `invalid-` → INVALID_ARGUMENT, `busy-` →
 * RESOURCE_EXHAUSTED, anything else accepted. Under `refuse`, every message is refused with `refusals.each`.
 */
export function eachResult(tweet: WeatherTweet, refuseAll: boolean) {
  const id = tweet.id ?? '';
  if (refuseAll) return { success: false, message: refusals.each, id, code: 14 };
  if (id.startsWith('refused-')) return { success: false, message: 'kafka did not confirm', id, code: 14 };
  if (id.startsWith('invalid-')) return { success: false, message: 'weather: unknown', id, code: 3 };
  if (id.startsWith('busy-')) return { success: false, message: 'at its limit', id, code: 8 };
  return { success: true, message: 'accepted', id, code: 0 };
}

export interface GatewayOptions {
  /** Defaults to the double's own address. */
  address?: string;
  deadlineMs?: number;
  readyTimeoutMs?: number;
  maxInFlight?: number;
  registry?: Registry;
  coalesceMax?: number;
  coalesceLingerMs?: number;
}

/** One transport's in-process ingest double, and how to make its gateway. */
export interface IngestHarness {
  /** Listens on 127.0.0.1, on a free port. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Back to `ok` and SERVING, with no calls recorded. */
  reset(): void;
  /** A gateway to the double (or to `options.address`), closed when the test ends. */
  gateway(options?: GatewayOptions): IngestGateway & { close(): void };
  behave(behaviour: IngestBehaviour): void;
  /** What the double's health check answers: SERVING, or NOT_SERVING (a broker down). */
  setServing(serving: boolean): void;
  /** Every call received since the last reset, in order. */
  calls(): IngestCall[];
  /** An address of this transport that nothing listens on. */
  unusedAddress(): Promise<string>;
  /** The whole error message of a call that missed its deadline of `deadlineMs`. */
  deadlineWording(deadlineMs: number): RegExp;
}

/**
 * What every double keeps between calls, and the harness methods over it: how to answer (a neutral behaviour or one
 * of the transport's own), whether it serves, and what it received (the transport's own record of each call).
 */
export function ingestDoubleState<Behaviour extends { kind: string }, Received>() {
  const state = {
    behaviour: { kind: 'ok' } as Behaviour | IngestBehaviour,
    serving: true,
    received: [] as Received[],
  };
  return {
    state,
    reset() {
      state.received.length = 0;
      state.behaviour = { kind: 'ok' };
      state.serving = true;
    },
    behave(next: Behaviour | IngestBehaviour) {
      state.behaviour = next;
    },
    setServing(next: boolean) {
      state.serving = next;
    },
  };
}

/** The gateway, closed when the test ends whatever its outcome. */
export function closedAfterTest<Gateway extends { close(): void }>(gateway: Gateway): Gateway {
  onTestFinished(() => gateway.close());
  return gateway;
}

/** Runs the double for the whole file, the suite's cases and the file's own: started once, reset after each test. */
export function useIngestDouble(harness: IngestHarness): void {
  beforeAll(() => harness.start());
  afterEach(() => harness.reset());
  afterAll(() => harness.stop());
}

/** The cases every IngestGateway passes; the double must be running (`useIngestDouble`). */
export function describeIngestGateway(name: string, harness: IngestHarness): void {
  describe(`${name} conformance`, () => {
    it('sends one message with the single call, as its tweet fields only', async () => {
      await harness.gateway().submit([{ ...message('a-1'), extra: 'not sent' } as IngestMessage]);
      expect(harness.calls()).toEqual([{ rpc: 'single', tweets: [tweet('a-1', 'GT')] }]);
    });

    it('sends several with one batch call, ids in order (duplicates kept)', async () => {
      await harness.gateway().submit([message('b-1', 'GT'), message('b-2', 'PERÚ'), message('b-1', 'MX')]);
      expect(harness.calls()).toEqual([
        { rpc: 'batch', tweets: [tweet('b-1', 'GT'), tweet('b-2', 'PERÚ'), tweet('b-1', 'MX')] },
      ]);
    });

    it('makes no call for no messages', async () => {
      await harness.gateway().submit([]);
      expect(harness.calls()).toEqual([]);
    });

    it('maps success:false to unavailable, for one message and for a batch', async () => {
      harness.behave({ kind: 'refuse' });
      const client = harness.gateway();
      const single = await failure(client.submit([message('d-1')]));
      expect(single.kind).toBe('unavailable');
      expect(single.message).toBe(`ingest did not accept: ${refusals.single}`);
      const batch = await failure(client.submit([message('d-1'), message('d-2')]));
      expect(batch.kind).toBe('unavailable');
      expect(batch.message).toBe(`ingest did not accept the batch: ${refusals.batch}`);
    });

    it('gives up at its deadline when the ingest is slow', async () => {
      harness.behave({ kind: 'slow', ms: 1_000 });
      const started = Date.now();
      const error = await failure(harness.gateway({ deadlineMs: 100 }).submit([message('e-1')]));
      expect(error.kind).toBe('deadline');
      expect(error.message).toMatch(harness.deadlineWording(100));
      expect(Date.now() - started).toBeLessThan(900);
    });

    it("cancels the call when the caller's signal aborts, keeping the caller's reason", async () => {
      harness.behave({ kind: 'slow', ms: 1_000 });
      const controller = new AbortController();
      const started = Date.now();
      const pending = harness.gateway().submit([message('f-1'), message('f-2')], controller.signal);
      const reason = new IngestError('deadline', 'caller gave up');
      setTimeout(() => controller.abort(reason), 50);
      expect(await failure(pending)).toBe(reason);
      expect(Date.now() - started).toBeLessThan(900);
    });

    it("maps a caller's abort with another reason to unavailable", async () => {
      harness.behave({ kind: 'slow', ms: 1_000 });
      const controller = new AbortController();
      const pending = harness.gateway().submit([message('f-3')], controller.signal);
      setTimeout(() => controller.abort(new Error('client gone')), 50);
      const error = await failure(pending);
      expect(error.kind).toBe('unavailable');
      expect(error.message).toBe('the call was cancelled');
    });

    it('does not call at all with an already aborted signal', async () => {
      const error = await failure(harness.gateway().submit([message('g-1')], AbortSignal.abort()));
      expect(error.kind).toBe('unavailable');
      expect(error.message).toBe('the call was cancelled');
      expect(harness.calls()).toEqual([]);
    });

    it('maps a connection refused to unavailable', async () => {
      const address = await harness.unusedAddress();
      // A deadline well past the refusal, so that a refusal mapped as a timeout cannot pass.
      const error = await failure(harness.gateway({ address, deadlineMs: 2_000 }).submit([message('h-1')]));
      expect(error.kind).toBe('unavailable');
      expect(error.message).toContain('ECONNREFUSED');
    });

    it('is ready while the ingest serves, not while NOT_SERVING, not when nothing listens, nor once closed', async () => {
      harness.setServing(false);
      const client = harness.gateway();
      expect(await client.isReady()).toBe(false);
      harness.setServing(true);
      expect(await client.isReady()).toBe(true);
      // Again once connected and ready: each check asks the ingest, rather than remembering.
      harness.setServing(false);
      expect(await client.isReady()).toBe(false);
      harness.setServing(true);
      const nowhere = harness.gateway({ address: await harness.unusedAddress(), readyTimeoutMs: 200 });
      expect(await nowhere.isReady()).toBe(false);
      client.close();
      expect(await client.isReady()).toBe(false);
    });

    it('refuses to submit once closed, with unavailable, and makes no call', async () => {
      const client = harness.gateway();
      client.close();
      const error = await failure(client.submit([message('i-1')]));
      expect(error.kind).toBe('unavailable');
      expect(error.message).toBe('the ingest gateway is closed');
      expect(harness.calls()).toEqual([]);
    });

    it('refuses a call over maxInFlight at once with overloaded, and calls again once a slot frees', async () => {
      harness.behave({ kind: 'slow', ms: 300 });
      const client = harness.gateway({ maxInFlight: 2 });
      const first = client.submit([message('m-1')]);
      const second = client.submit([message('m-2'), message('m-3')]);
      const started = Date.now();
      const refused = await failure(client.submit([message('m-4')]));
      expect(refused.kind).toBe('overloaded');
      expect(refused.message).toBe('the edge is at its limit of 2 calls in flight');
      expect(Date.now() - started).toBeLessThan(100);
      await Promise.all([first, second]);
      harness.behave({ kind: 'ok' });
      await client.submit([message('m-5')]);
      const sent = harness.calls().flatMap((call) => call.tweets.map((t) => t.id));
      expect(sent.sort()).toEqual(['m-1', 'm-2', 'm-3', 'm-5']);
    });

    it('counts its calls in flight and the messages by outcome in the registry given', async () => {
      const registry = new Registry();
      const client = harness.gateway({ registry, maxInFlight: 1 });
      await client.submit([message('n-1')]);
      harness.behave({ kind: 'unavailable' });
      await failure(client.submit([message('n-2'), message('n-3')]));
      harness.behave({ kind: 'slow', ms: 300 });
      const pending = client.submit([message('n-4')]);
      await vi.waitFor(() => expect(harness.calls()).toHaveLength(3));
      await failure(client.submit([message('n-5'), message('n-6'), message('n-7')]));
      expect(await registry.metrics()).toContain('edge_ingest_submits_in_flight 1');
      await pending;
      expectMetricLines(await registry.metrics(), [
        'edge_ingest_submits_in_flight 0',
        'edge_messages_total{outcome="accepted"} 2',
        'edge_messages_total{outcome="failed"} 2',
        'edge_messages_total{outcome="rejected"} 3',
      ]);
    });

    describe('single messages, gathered (submitOne)', () => {
      it('gathers concurrent messages into one each call and settles each from its own result', async () => {
        const client = harness.gateway({ coalesceLingerMs: 20 });
        const outcomes = await Promise.allSettled([
          client.submitOne(message('ok-1')),
          client.submitOne(message('refused-2')),
          client.submitOne(message('invalid-3', 'SV')),
          client.submitOne(message('busy-4')),
          client.submitOne(message('ok-5', 'MX')),
        ]);
        expect(harness.calls()).toEqual([
          {
            rpc: 'each',
            tweets: [
              tweet('ok-1', 'GT'),
              tweet('refused-2', 'GT'),
              tweet('invalid-3', 'SV'),
              tweet('busy-4', 'GT'),
              tweet('ok-5', 'MX'),
            ],
          },
        ]);
        expect(
          outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as IngestError).kind)),
        ).toEqual(['ok', 'unavailable', 'invalid', 'overloaded', 'ok']);
        const refused = (outcomes[1] as PromiseRejectedResult).reason as IngestError;
        expect(refused.message).toBe('ingest did not accept: kafka did not confirm');
      });

      it('sends a gathering as soon as it holds coalesceMax messages, without waiting for the linger', async () => {
        const client = harness.gateway({ coalesceMax: 2, coalesceLingerMs: 60_000 });
        const started = Date.now();
        await Promise.all(['s-1', 's-2', 's-3', 's-4'].map((id) => client.submitOne(message(id))));
        expect(Date.now() - started).toBeLessThan(2_000);
        // Both calls are out at once: over HTTP (two connections) the second may reach the ingest first.
        const calls = harness.calls().map((call) => [call.rpc, call.tweets.map((t) => t.id)]);
        expect(calls).toHaveLength(2);
        expect(calls).toEqual(
          expect.arrayContaining([
            ['each', ['s-1', 's-2']],
            ['each', ['s-3', 's-4']],
          ]),
        );
      });

      it('sends a lone message at once, not after the linger, and each alone with ProcessTweet when coalesceMax is 1', async () => {
        const started = Date.now();
        await harness.gateway({ coalesceLingerMs: 60_000 }).submitOne(message('l-1'));
        expect(Date.now() - started).toBeLessThan(2_000);
        await harness.gateway({ coalesceMax: 1 }).submitOne(message('l-2'));
        expect(harness.calls()).toEqual([
          { rpc: 'each', tweets: [tweet('l-1', 'GT')] },
          { rpc: 'single', tweets: [tweet('l-2', 'GT')] },
        ]);
      });

      it('fails every message of the gathering alike when the call fails as a whole', async () => {
        harness.behave({ kind: 'unavailable' });
        const client = harness.gateway();
        const errors = await Promise.all(
          [message('w-1'), message('w-2')].map((m) => failure(client.submitOne(m))),
        );
        expect(errors.map((error) => error.kind)).toEqual(['unavailable', 'unavailable']);
        harness.behave({ kind: 'refuse' });
        const refused = await failure(client.submitOne(message('w-3')));
        expect(refused.message).toBe(`ingest did not accept: ${refusals.each}`);
      });

      it('takes out a message whose caller aborts before its gathering went: it is never sent', async () => {
        const client = harness.gateway({ coalesceLingerMs: 100 });
        const controller = new AbortController();
        const gone = client.submitOne(message('x-1'), controller.signal);
        const stays = client.submitOne(message('x-2'));
        controller.abort(new Error('client gone'));
        expect((await failure(gone)).message).toBe('the call was cancelled');
        await stays;
        expect(harness.calls()).toEqual([{ rpc: 'each', tweets: [tweet('x-2', 'GT')] }]);
        // Aborted before it came: refused at once, nothing gathered.
        expect((await failure(client.submitOne(message('x-3'), AbortSignal.abort()))).kind).toBe(
          'unavailable',
        );
      });

      it('lets a message whose caller aborts after its gathering went go on with the others', async () => {
        harness.behave({ kind: 'slow', ms: 200 });
        const client = harness.gateway({ coalesceLingerMs: 0 });
        const controller = new AbortController();
        const gone = client.submitOne(message('y-1'), controller.signal);
        const stays = client.submitOne(message('y-2'));
        await vi.waitFor(() => expect(harness.calls()).toHaveLength(1));
        controller.abort(new Error('client gone'));
        await Promise.all([gone, stays]);
        expect(harness.calls()).toEqual([{ rpc: 'each', tweets: [tweet('y-1', 'GT'), tweet('y-2', 'GT')] }]);
      });

      it('holds one slot of maxInFlight per gathering, and refuses a whole gathering over it with overloaded', async () => {
        harness.behave({ kind: 'slow', ms: 300 });
        const registry = new Registry();
        const client = harness.gateway({ maxInFlight: 1, coalesceLingerMs: 0, registry });
        const first = [message('z-1'), message('z-2')].map((m) => client.submitOne(m));
        await vi.waitFor(() => expect(harness.calls()).toHaveLength(1));
        const refused = await Promise.all(
          [message('z-3'), message('z-4')].map((m) => failure(client.submitOne(m))),
        );
        expect(refused.map((error) => error.kind)).toEqual(['overloaded', 'overloaded']);
        await Promise.all(first);
        expectMetricLines(await registry.metrics(), [
          'edge_messages_total{outcome="accepted"} 2',
          'edge_messages_total{outcome="rejected"} 2',
          'edge_ingest_call_messages_sum 2',
          'edge_ingest_call_messages_count 1',
        ]);
      });
    });

    describe('the app through the gateway', () => {
      const input = { description: 'Soleado hoy', country: 'gt', weather: 'Soleado' };

      it('answers 202 after the each / batch call succeeded, and /ready as the ingest serves', async () => {
        const app = createApp({ ingest: harness.gateway() });
        const single = await post(app, '/input', { ...input, id: 'j-1' });
        expect(single.status).toBe(202);
        expect(await single.json()).toEqual({ id: 'j-1', status: 'accepted' });
        const batch = await post(app, '/input/batch', [input, { ...input, id: 'j-2' }]);
        expect(batch.status).toBe(202);
        // Normalised by the app: the country upper-cased, the weather in English, an id for the one without.
        const calls = harness.calls();
        // POST /input rides a gathering (ProcessTweets), a batch is all-or-nothing (ProcessTweetBatch).
        expect(calls.map((call) => call.rpc)).toEqual(['each', 'batch']);
        expect(calls[0]?.tweets).toEqual([
          { description: 'Soleado hoy', country: 'GT', weather: 'Sunny', id: 'j-1' },
        ]);
        expect(calls[1]?.tweets.map((t) => t.weather)).toEqual(['Sunny', 'Sunny']);
        expect(calls[1]?.tweets[1]?.id).toBe('j-2');
        expect((await app.request('/ready')).status).toBe(200);
        harness.setServing(false);
        expect((await app.request('/ready')).status).toBe(503);
      });

      it('answers concurrent POST /input from one call, each request from its own message', async () => {
        const app = createApp({ ingest: harness.gateway({ coalesceLingerMs: 20 }) });
        const ids = ['p-1', 'refused-p-2', 'p-3', 'invalid-p-4', 'p-5'];
        const responses = await Promise.all(ids.map((id) => post(app, '/input', { ...input, id })));
        expect(responses.map((r) => r.status)).toEqual([202, 503, 202, 400, 202]);
        expect(await responses[0]?.json()).toEqual({ id: 'p-1', status: 'accepted' });
        const invalid = (await responses[3]?.json()) as { error: { code: string } } | undefined;
        expect(invalid?.error.code).toBe('rejected_by_ingest');
        expect(harness.calls().map((call) => [call.rpc, call.tweets.length])).toEqual([['each', 5]]);
      });

      it.each<[IngestBehaviour, number, string]>([
        [{ kind: 'unavailable' }, 503, 'ingest_unavailable'],
        [{ kind: 'overloaded' }, 429, 'overloaded'],
        [{ kind: 'refuse' }, 503, 'ingest_unavailable'],
        [{ kind: 'slow', ms: 1_000 }, 503, 'ingest_timeout'],
      ])('answers %j with %i %s and Retry-After 1', async (given, code, errorCode) => {
        harness.behave(given);
        // A short deadline only where it is the point: on a loaded machine 100 ms can pass before any answer.
        const app = createApp({
          ingest: harness.gateway({ deadlineMs: given.kind === 'slow' ? 100 : 2_000 }),
        });
        const response = await post(app, '/input', input);
        expect(response.status).toBe(code);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe(errorCode);
      });

      it('answers 429 overloaded at once over maxInFlight, and 202 again once a slot frees', async () => {
        harness.behave({ kind: 'slow', ms: 300 });
        const app = createApp({ ingest: harness.gateway({ maxInFlight: 2 }) });
        const first = post(app, '/input', input);
        const second = post(app, '/input/batch', [input, input]);
        await vi.waitFor(() => expect(harness.calls()).toHaveLength(2));

        const third = await post(app, '/input', input);
        expect(third.status).toBe(429);
        expect(((await third.json()) as { error: { code: string } }).error.code).toBe('overloaded');
        expect(third.headers.get('retry-after')).toBe('1');

        expect((await first).status).toBe(202);
        expect((await second).status).toBe(202);
        harness.behave({ kind: 'ok' });
        expect((await post(app, '/input', input)).status).toBe(202);
        expect(harness.calls()).toHaveLength(3);
      });

      it('still answers 400 for bad input while at the limit', async () => {
        harness.behave({ kind: 'slow', ms: 300 });
        const app = createApp({ ingest: harness.gateway({ maxInFlight: 1 }) });
        const pending = post(app, '/input', input);
        await vi.waitFor(() => expect(harness.calls()).toHaveLength(1));
        const bad = await app.request('/input', {
          method: 'POST',
          body: '{',
          headers: { 'Content-Type': 'application/json' },
        });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
        expect((await pending).status).toBe(202);
      });

      it("serves the gateway's call metrics on /metrics when both share a registry", async () => {
        const registry = new Registry();
        const app = createApp({ ingest: harness.gateway({ registry }), registry });
        await post(app, '/input', input);
        harness.behave({ kind: 'unavailable' });
        await post(app, '/input/batch', [input, input]);
        expectMetricLines(await (await app.request('/metrics')).text(), [
          'http_requests_total{method="POST",route="/input/batch",status="503"} 1',
          'edge_ingest_submits_in_flight 0',
          'edge_messages_total{outcome="accepted"} 1',
          'edge_messages_total{outcome="failed"} 2',
        ]);
      });
    });
  });
}

export const message = (id: string, country = 'GT'): IngestMessage => ({
  id,
  description: 'Está lloviendo',
  country,
  weather: 'Rainy',
});

/** `message(id, country)` as the ingest receives it. */
export const tweet = (id: string, country: string): WeatherTweet => ({
  description: 'Está lloviendo',
  country,
  weather: 'Rainy',
  id,
});

/** The IngestError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<IngestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IngestError);
  return error as IngestError;
}

/** Fails unless `text` (metrics in Prometheus text format) holds every one of `lines`. */
export function expectMetricLines(text: string, lines: readonly string[]): void {
  for (const line of lines) expect(text).toContain(line);
}

/** A port nobody listens on: bind, take the port, close. */
export async function unusedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const post = (app: ReturnType<typeof createApp>, path: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' },
  });
