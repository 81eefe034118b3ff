// The constant-time key comparison (src/auth.ts), on its own.
import * as crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keyDigest, matchKey } from '../src/auth.ts';

vi.mock('node:crypto', async (original) => {
  const actual = await original<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});
const compare = vi.mocked(crypto.timingSafeEqual);

const keys = ['first-key-0123456789', 'second-key-0123456789abcdef', 'third-key-0123456789'];
const digests = keys.map(keyDigest);

afterEach(() => compare.mockClear());

describe('keyDigest', () => {
  it('is 32 bytes whatever the length of the key', () => {
    for (const key of ['', 'k', 'x'.repeat(16), 'y'.repeat(10_000)]) expect(keyDigest(key)).toHaveLength(32);
  });
});

describe('matchKey', () => {
  it('gives the index of the key presented', () => {
    expect(keys.map((key) => matchKey(key, digests))).toEqual([0, 1, 2]);
  });

  it.each([
    ['a wrong key', 'wrong-key-0123456789'],
    ['an empty key', ''],
    ['a prefix of a key', keys[1]?.slice(0, -1)],
    ['a key with one more character', `${keys[1]}f`],
    ['a key in another case', keys[0]?.toUpperCase()],
    ['a key with a space around it', ` ${keys[0]}`],
  ])('refuses %s', (_name, presented) => {
    expect(matchKey(presented as string, digests)).toBe(-1);
  });

  it('compares fixed-length digests with every key, every time, whichever matched', () => {
    for (const presented of [keys[0] as string, keys[2] as string, 'wrong', 'w'.repeat(5000)]) {
      compare.mockClear();
      matchKey(presented, digests);
      expect(compare).toHaveBeenCalledTimes(keys.length);
      for (const [a, b] of compare.mock.calls) {
        expect([(a as Buffer).length, (b as Buffer).length]).toEqual([32, 32]);
      }
    }
  });
});
