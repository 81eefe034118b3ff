// The token buckets (src/rate-limit.ts), on their own, on a fake clock.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBuckets } from '../src/rate-limit.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const seconds = (s: number) => vi.advanceTimersByTime(s * 1000);

describe('TokenBuckets', () => {
  it('starts full, and lets a burst through at once', () => {
    const buckets = new TokenBuckets({ perSecond: 2, burst: 5 });
    for (let i = 0; i < 5; i++) expect(buckets.take('a', 1)).toEqual({ ok: true });
    expect(buckets.take('a', 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
  });

  it('refills at the rate, never beyond the burst', () => {
    const buckets = new TokenBuckets({ perSecond: 2, burst: 4 });
    expect(buckets.take('a', 4).ok).toBe(true);
    seconds(1);
    expect(buckets.take('a', 2).ok).toBe(true);
    expect(buckets.take('a', 1).ok).toBe(false);
    seconds(60);
    expect(buckets.take('a', 4).ok).toBe(true);
    expect(buckets.take('a', 1).ok).toBe(false);
  });

  it('says in whole seconds, at least 1, when the request would pass; a refusal takes nothing', () => {
    const buckets = new TokenBuckets({ perSecond: 2, burst: 10 });
    expect(buckets.take('a', 10).ok).toBe(true);
    expect(buckets.take('a', 6)).toEqual({ ok: false, retryAfterSeconds: 3 });
    seconds(0.25); // half a token
    expect(buckets.take('a', 1)).toEqual({ ok: false, retryAfterSeconds: 1 });
    seconds(2.75); // 6 tokens: the refusals took none
    expect(buckets.take('a', 6).ok).toBe(true);
  });

  it('rounds a slow rate up: 0.5 per second is 2 s for one message', () => {
    const buckets = new TokenBuckets({ perSecond: 0.5, burst: 1 });
    expect(buckets.take('a', 1).ok).toBe(true);
    expect(buckets.take('a', 1)).toEqual({ ok: false, retryAfterSeconds: 2 });
  });

  it('lets a request larger than the bucket through when it is full, leaving it in debt', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 3 });
    expect(buckets.take('a', 5).ok).toBe(true);
    // -2 now: one message needs 3 s.
    expect(buckets.take('a', 1)).toEqual({ ok: false, retryAfterSeconds: 3 });
    seconds(2);
    expect(buckets.take('a', 5)).toEqual({ ok: false, retryAfterSeconds: 3 });
    seconds(3);
    expect(buckets.take('a', 5).ok).toBe(true);
  });

  it('keeps a bucket per client', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1 });
    expect(buckets.take('a', 1).ok).toBe(true);
    expect(buckets.take('a', 1).ok).toBe(false);
    expect(buckets.take('b', 1).ok).toBe(true);
  });

  it('defaults the burst to one second of the rate, at least 1', () => {
    expect(new TokenBuckets({ perSecond: 50 }).burst).toBe(50);
    expect(new TokenBuckets({ perSecond: 2.5 }).burst).toBe(3);
    expect(new TokenBuckets({ perSecond: 0.1 }).burst).toBe(1);
  });

  it('drops buckets once they are full again: idle clients cost no memory', () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 10 });
    for (let i = 0; i < 1000; i++) buckets.take(`client-${i}`, 10);
    expect(buckets.size).toBe(1000);
    seconds(0.5);
    buckets.take('late', 10);
    expect(buckets.size).toBe(1001);
    seconds(0.6); // the first thousand are full again, 'late' is not
    buckets.take('later', 1);
    expect(buckets.size).toBe(2);
  });

  it('keeps at most maxBuckets, dropping the least recently used', () => {
    const buckets = new TokenBuckets({ perSecond: 1, burst: 2, maxBuckets: 3 });
    for (const client of ['a', 'b', 'c']) buckets.take(client, 2);
    buckets.take('a', 1); // refused, but used: now the most recent
    buckets.take('d', 1);
    expect(buckets.size).toBe(3);
    // b was dropped: it starts again full; a and c were kept, empty.
    expect(buckets.take('b', 2).ok).toBe(true);
    expect(buckets.take('a', 1).ok).toBe(false);
  });

  it('refuses settings that make no bucket', () => {
    expect(() => new TokenBuckets({ perSecond: 0 })).toThrow(/perSecond/);
    expect(() => new TokenBuckets({ perSecond: Number.POSITIVE_INFINITY })).toThrow(/perSecond/);
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow(/burst/);
  });
});
