// IngestCalls alone, the part of every call both gateways share, over a transport the test controls: what no real
// double of the ingest can show (a transport that throws, or never settles). The rest runs through both gateways in
// ingest-gateway.case.ts.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type IngestAnswer, IngestCalls, type IngestSend, resultError } from '../src/ingest-gateway/calls.ts';
import { expectMetricLines, failure, message } from './ingest-gateway.case.ts';

/** A transport that records the signal of every call and answers as `answer` says. */
function transport(answer: (signal: AbortSignal) => Promise<IngestAnswer>) {
  const signals: AbortSignal[] = [];
  const send: IngestSend = (_tweets, signal) => {
    signals.push(signal);
    return answer(signal);
  };
  return { signals, send };
}

const never = () => new Promise<IngestAnswer>(() => {});

describe('IngestCalls', () => {
  it('answers deadline at its backstop when the call never settles, and cancels the call', async () => {
    const { signals, send } = transport(never);
    const registry = new Registry();
    const calls = new IngestCalls({ deadlineMs: 10, backstopMs: 20, maxInFlight: 10, registry }, send);
    const started = Date.now();
    const error = await failure(calls.submit([message('a-1')]));
    expect(error.kind).toBe('deadline');
    expect(error.message).toBe('no answer from the ingest in 30 ms');
    expect(Date.now() - started).toBeLessThan(500);
    expect(signals[0]?.aborted).toBe(true);
    // The call never settled, so it still holds its slot: the bound is on work really outstanding at the ingest.
    expect(await registry.metrics()).toContain('edge_ingest_submits_in_flight 1');
  });

  it('frees the slot once the call settles, even after its caller was answered', async () => {
    let settle: (answer: IngestAnswer) => void = () => {};
    const { send } = transport(() => new Promise((resolve) => (settle = resolve)));
    const calls = new IngestCalls({ deadlineMs: 10, backstopMs: 0, maxInFlight: 1 }, send);
    expect((await failure(calls.submit([message('b-1')]))).kind).toBe('deadline');
    expect((await failure(calls.submit([message('b-2')]))).kind).toBe('overloaded');
    settle({ success: true, message: 'accepted' });
    await new Promise((resolve) => setImmediate(resolve));
    expect((await failure(calls.submit([message('b-3')]))).kind).toBe('deadline');
  });

  it("answers a caller's abort at once, though the transport ignores its signal", async () => {
    const { signals, send } = transport(never);
    const calls = new IngestCalls({ deadlineMs: 60_000, maxInFlight: 10 }, send);
    const controller = new AbortController();
    const pending = calls.submit([message('c-1')], controller.signal);
    setTimeout(() => controller.abort(new Error('client gone')), 20);
    const error = await failure(pending);
    expect(error.kind).toBe('unavailable');
    expect(error.message).toBe('the call was cancelled');
    expect(signals[0]?.aborted).toBe(true);
  });

  it('passes a transport bug on as it is, never hangs, and frees the slot', async () => {
    const bug = new TypeError('bug');
    const send: IngestSend = () => {
      throw bug;
    };
    const registry = new Registry();
    const calls = new IngestCalls({ deadlineMs: 60_000, maxInFlight: 1, registry }, send);
    await expect(calls.submit([message('d-1')])).rejects.toBe(bug);
    await expect(calls.submit([message('d-2')])).rejects.toBe(bug);
    expectMetricLines(await registry.metrics(), [
      'edge_ingest_submits_in_flight 0',
      'edge_messages_total{outcome="failed"} 2',
    ]);
  });
});

describe('resultError', () => {
  it.each([
    [3, 'invalid', 'weather: unknown'],
    [4, 'deadline', 'ingest did not accept: weather: unknown'],
    [8, 'overloaded', 'ingest did not accept: weather: unknown'],
    [14, 'unavailable', 'ingest did not accept: weather: unknown'],
    [13, 'unavailable', 'ingest did not accept: weather: unknown'],
  ])('answers a ProcessTweets result with code %i as %s', (code, kind, wording) => {
    const error = resultError({ success: false, message: 'weather: unknown', code });
    expect([error?.kind, error?.message]).toEqual([kind, wording]);
  });

  it('answers an accepted result with no error', () => {
    expect(resultError({ success: true, message: 'accepted', code: 0 })).toBeUndefined();
  });
});
