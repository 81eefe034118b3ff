// The Coalescer alone, over a send the test controls: when a gathering goes (size, linger), how each caller is
// settled from its own outcome, and that nothing waits beyond the bound. Through real transports:
// ingest-gateway.case.ts ("single messages, gathered").
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IngestCalls, type IngestResult } from '../src/ingest-gateway/calls.ts';
import { Coalescer, type SendGathered } from '../src/ingest-gateway/coalesce.ts';
import { IngestError, type IngestMessage } from '../src/ingest-gateway/contract.ts';
import { failure, message } from './ingest-gateway.case.ts';

/** A send that records each gathering's ids and answers all accepted, or as `answer` says. */
function recorder(
  answer: (messages: IngestMessage[]) => ReturnType<SendGathered> = async (m) => m.map(() => undefined),
) {
  const gatherings: string[][] = [];
  const send: SendGathered = (messages) => {
    gatherings.push(messages.map((m) => m.id));
    return answer(messages);
  };
  return { gatherings, send };
}

/** A send whose calls stay out until `release()` answers the oldest one (all accepted). */
function held() {
  const answers: (() => void)[] = [];
  const { gatherings, send } = recorder(
    (messages) => new Promise((resolve) => answers.push(() => resolve(messages.map(() => undefined)))),
  );
  const release = () => answers.shift()?.();
  return { gatherings, send, release };
}

/** The end of the current turn of the event loop (after the coalescer's setImmediate). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  it('sends a gathering the moment it holds maxBatch messages', async () => {
    const { gatherings, send } = recorder();
    const coalescer = new Coalescer({ maxBatch: 3, lingerMs: 60_000 }, send);
    const pending = ['a', 'b', 'c', 'd'].map((id) => coalescer.submit(message(id)));
    expect(gatherings).toEqual([['a', 'b', 'c']]);
    expect(coalescer.waiting).toBe(1);
    await Promise.all(pending.slice(0, 3));
    coalescer.flush();
    await pending[3];
    expect(gatherings).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('sends a lone message at the end of its turn when no call is out, without waiting the linger', async () => {
    vi.useFakeTimers();
    try {
      const { gatherings, send } = recorder();
      const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 60_000 }, send);
      const lone = coalescer.submit(message('a'));
      expect(gatherings).toEqual([]);
      await vi.advanceTimersByTimeAsync(0);
      expect(gatherings).toEqual([['a']]);
      await lone;
      expect(coalescer.callsOut).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('while a call is out, gathers what comes and sends it as one call the moment that call is back', async () => {
    const { gatherings, send, release } = held();
    const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 60_000 }, send);
    const first = coalescer.submit(message('first'));
    await turn();
    expect(gatherings).toEqual([['first']]);
    expect(coalescer.callsOut).toBe(1);
    const ids = Array.from({ length: 30 }, (_, i) => `m-${i}`);
    const later: Promise<void>[] = [];
    for (const id of ids) {
      later.push(coalescer.submit(message(id)));
      await turn(); // each in a turn of its own: only the call out holds them
    }
    expect(gatherings).toEqual([['first']]);
    expect(coalescer.waiting).toBe(30);
    release();
    await first;
    await turn();
    expect(gatherings).toEqual([['first'], ids]);
    release();
    await Promise.all(later);
    expect(coalescer.callsOut).toBe(0);
  });

  it('with maxCallsOut 2, a second call goes at once and the third gathering waits for one of them', async () => {
    const { gatherings, send, release } = held();
    const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 60_000, maxCallsOut: 2 }, send);
    const pending = [coalescer.submit(message('a'))];
    await turn();
    pending.push(coalescer.submit(message('b')));
    await turn();
    pending.push(coalescer.submit(message('c')), coalescer.submit(message('d')));
    await turn();
    expect(gatherings).toEqual([['a'], ['b']]);
    release();
    await pending[0];
    await turn();
    expect(gatherings).toEqual([['a'], ['b'], ['c', 'd']]);
    release();
    release();
    await Promise.all(pending);
  });

  it('waits for a call out at most lingerMs after the first message of the gathering', async () => {
    vi.useFakeTimers();
    try {
      const { gatherings, send, release } = held();
      const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 5 }, send);
      const first = coalescer.submit(message('a'));
      await vi.advanceTimersByTimeAsync(0);
      const second = coalescer.submit(message('b'));
      await vi.advanceTimersByTimeAsync(3);
      const third = coalescer.submit(message('c'));
      await vi.advanceTimersByTimeAsync(1);
      expect(gatherings).toEqual([['a']]);
      await vi.advanceTimersByTimeAsync(1);
      expect(gatherings).toEqual([['a'], ['b', 'c']]);
      expect(coalescer.callsOut).toBe(2);
      release();
      release();
      await Promise.all([first, second, third]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('with lingerMs 0, never waits for a call out: each gathering goes at the end of its turn', async () => {
    const { gatherings, send, release } = held();
    const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 0 }, send);
    const pending = [coalescer.submit(message('a'))];
    await turn();
    pending.push(coalescer.submit(message('b')));
    await turn();
    expect(gatherings).toEqual([['a'], ['b']]);
    release();
    release();
    await Promise.all(pending);
  });

  it('sends a full gathering at once even while a call is out', async () => {
    const { gatherings, send, release } = held();
    const coalescer = new Coalescer({ maxBatch: 2, lingerMs: 60_000 }, send);
    const pending = [coalescer.submit(message('a'))];
    await turn();
    pending.push(coalescer.submit(message('b')), coalescer.submit(message('c')));
    expect(gatherings).toEqual([['a'], ['b', 'c']]);
    release();
    release();
    await Promise.all(pending);
  });

  it('with lingerMs 0, gathers the messages of the same turn of the event loop', async () => {
    const { gatherings, send } = recorder();
    const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 0 }, send);
    await Promise.all([coalescer.submit(message('a')), coalescer.submit(message('b'))]);
    await coalescer.submit(message('c'));
    expect(gatherings).toEqual([['a', 'b'], ['c']]);
  });

  it("settles each caller from its own outcome, and all alike from the call's failure", async () => {
    const refused = new IngestError('invalid', 'weather: unknown');
    let fail: Error | undefined;
    const { send } = recorder(async (messages) => {
      if (fail) throw fail;
      return messages.map((m) => (m.id === 'bad' ? refused : undefined));
    });
    const coalescer = new Coalescer({ maxBatch: 3, lingerMs: 0 }, send);
    const outcomes = await Promise.allSettled(['a', 'bad', 'c'].map((id) => coalescer.submit(message(id))));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBe(refused);
    fail = new IngestError('unavailable', 'ingest down');
    const both = await Promise.allSettled([coalescer.submit(message('d')), coalescer.submit(message('e'))]);
    expect(both.map((o) => (o as PromiseRejectedResult).reason)).toEqual([fail, fail]);
  });

  it('takes an aborted caller out before its gathering goes; never sends an empty one', async () => {
    const { gatherings, send } = recorder();
    const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 10 }, send);
    const controller = new AbortController();
    const gone = coalescer.submit(message('a'), controller.signal);
    controller.abort(new Error('client gone'));
    expect((await failure(gone)).message).toBe('the call was cancelled');
    expect(coalescer.waiting).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(gatherings).toEqual([]);
  });

  describe('with intervalMs', () => {
    // performance.now() too: the coalescer measures the interval with it.
    beforeEach(() => {
      vi.useFakeTimers({
        toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
      });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('under load, sends gatherings at most once every intervalMs, each carrying what came meanwhile', async () => {
      const { gatherings, send } = recorder();
      const sentAt: number[] = [];
      const timed: SendGathered = (messages) => {
        sentAt.push(performance.now());
        return send(messages);
      };
      const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 5, intervalMs: 10 }, timed);
      const started = performance.now();
      const pending: Promise<void>[] = [];
      // A message every ms for 40 ms; the calls come back at once, so only the interval holds them.
      for (let ms = 0; ms < 40; ms++) {
        pending.push(coalescer.submit(message(`m-${ms}`)));
        await vi.advanceTimersByTimeAsync(1);
      }
      await vi.advanceTimersByTimeAsync(10);
      await Promise.all(pending);
      // The first goes at once (nothing went before), then one every 10 ms: 5 calls for 40 messages, not 40.
      expect(gatherings.map((g) => g.length)).toEqual([1, 9, 10, 10, 10]);
      expect(sentAt.map((at) => at - started)).toEqual([0, 10, 20, 30, 40]);
    });

    it('sends a message at once when the previous gathering went longer than intervalMs ago', async () => {
      const { gatherings, send } = recorder();
      const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 5, intervalMs: 10 }, send);
      const first = coalescer.submit(message('a'));
      await vi.advanceTimersByTimeAsync(0);
      await first;
      await vi.advanceTimersByTimeAsync(10);
      const second = coalescer.submit(message('b'));
      await vi.advanceTimersByTimeAsync(0);
      expect(gatherings).toEqual([['a'], ['b']]);
      await second;
    });

    it('sends a full gathering at once, within the interval', async () => {
      const { gatherings, send } = recorder();
      const coalescer = new Coalescer({ maxBatch: 2, lingerMs: 5, intervalMs: 60_000 }, send);
      const pending = [coalescer.submit(message('a'))];
      await vi.advanceTimersByTimeAsync(0);
      pending.push(coalescer.submit(message('b')), coalescer.submit(message('c')));
      expect(gatherings).toEqual([['a'], ['b', 'c']]);
      await Promise.all(pending);
    });

    it('after the interval, still waits for a call out, at most lingerMs', async () => {
      const { gatherings, send, release } = held();
      const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 5, intervalMs: 10 }, send);
      const first = coalescer.submit(message('a'));
      await vi.advanceTimersByTimeAsync(0);
      const second = coalescer.submit(message('b'));
      await vi.advanceTimersByTimeAsync(14); // the interval is over at 10, the linger runs from there
      expect(gatherings).toEqual([['a']]);
      await vi.advanceTimersByTimeAsync(1);
      expect(gatherings).toEqual([['a'], ['b']]);
      release();
      release();
      await Promise.all([first, second]);
    });

    it('does not send early when a call comes back within the interval', async () => {
      const { gatherings, send, release } = held();
      const coalescer = new Coalescer({ maxBatch: 64, lingerMs: 5, intervalMs: 10 }, send);
      const first = coalescer.submit(message('a'));
      await vi.advanceTimersByTimeAsync(0);
      const second = coalescer.submit(message('b'));
      await vi.advanceTimersByTimeAsync(2);
      release();
      await first;
      await vi.advanceTimersByTimeAsync(7);
      expect(gatherings).toEqual([['a']]);
      await vi.advanceTimersByTimeAsync(1);
      expect(gatherings).toEqual([['a'], ['b']]);
      release();
      await second;
    });
  });

  it('refuses a maxBatch or maxCallsOut that is not a positive integer, or a negative lingerMs or intervalMs', () => {
    const { send } = recorder();
    expect(() => new Coalescer({ maxBatch: 0, lingerMs: 1 }, send)).toThrow(/maxBatch must be/);
    expect(() => new Coalescer({ maxBatch: 2, lingerMs: 1, maxCallsOut: 0 }, send)).toThrow(/maxCallsOut/);
    expect(() => new Coalescer({ maxBatch: 2, lingerMs: -1 }, send)).toThrow(/lingerMs must be/);
    expect(() => new Coalescer({ maxBatch: 2, lingerMs: 1, intervalMs: -1 }, send)).toThrow(
      /intervalMs must be/,
    );
  });
});

describe('IngestCalls.submitOne', () => {
  const ok = (): IngestResult => ({ success: true, message: 'accepted', code: 0 });

  it.each<[number, IngestError['kind']]>([
    [3, 'invalid'],
    [8, 'overloaded'],
    [14, 'unavailable'],
    [13, 'unavailable'],
  ])('maps a result with code %i to %s, for that message only', async (code, kind) => {
    const calls = new IngestCalls(
      { deadlineMs: 1_000, maxInFlight: 10, coalesceLingerMs: 0 },
      async () => ({ success: true, message: '' }),
      async (tweets) => tweets.map((t) => (t.id === 'bad' ? { success: false, message: 'no', code } : ok())),
    );
    const [good, bad] = await Promise.allSettled([
      calls.submitOne(message('good')),
      calls.submitOne(message('bad')),
    ]);
    expect(good.status).toBe('fulfilled');
    expect(((bad as PromiseRejectedResult).reason as IngestError).kind).toBe(kind);
  });

  it('answers unavailable for every message when the ingest answers the wrong number of results', async () => {
    const calls = new IngestCalls(
      { deadlineMs: 1_000, maxInFlight: 10, coalesceLingerMs: 0 },
      async () => ({ success: true, message: '' }),
      async () => [ok()],
    );
    const errors = await Promise.all([message('a'), message('b')].map((m) => failure(calls.submitOne(m))));
    expect(errors.map((e) => e.message)).toEqual([
      'ingest answered 1 results for 2 messages',
      'ingest answered 1 results for 2 messages',
    ]);
  });

  it('bounds the gatherings out by maxInFlight: over it, a whole gathering is refused at once', async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const calls = new IngestCalls(
      { deadlineMs: 10_000, maxInFlight: 1, coalesceMax: 2, coalesceLingerMs: 60_000 },
      async () => ({ success: true, message: '' }),
      async (tweets) => {
        await held;
        return tweets.map(ok);
      },
    );
    const first = [calls.submitOne(message('a')), calls.submitOne(message('b'))];
    const refused = await Promise.all([message('c'), message('d')].map((m) => failure(calls.submitOne(m))));
    expect(refused.map((e) => e.kind)).toEqual(['overloaded', 'overloaded']);
    release();
    await Promise.all(first);
  });
});
