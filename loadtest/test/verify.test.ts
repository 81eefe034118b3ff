import { describe, expect, it } from 'vitest';
import { judge } from '../src/verify.ts';

const expected = { ids: 100, idsUnresolved: 0, anonymous: 5, anonymousUnresolved: 0 };
const both = (n: number) => ({ redis: n, valkey: n });

describe('judge', () => {
  it('passes when every accepted id is counted exactly once in both stores', () => {
    const verdict = judge(expected, { seen: both(100), delta: both(105) });
    expect(verdict).toMatchObject({ ok: true, exact: true, warnings: [] });
  });

  it('fails when a store misses accepted ids', () => {
    const verdict = judge(expected, { seen: { redis: 100, valkey: 98 }, delta: { redis: 105, valkey: 103 } });
    expect(verdict.ok).toBe(false);
    expect(verdict.lines[1]).toContain('2 accepted ids were never counted');
  });

  it('fails when a total grew by less than what was accepted (a message without client id lost)', () => {
    expect(judge(expected, { seen: both(100), delta: both(104) }).ok).toBe(false);
  });

  it('allows unresolved messages to be counted once or not at all', () => {
    const unresolved = { ...expected, idsUnresolved: 3 };
    expect(judge(unresolved, { seen: both(102), delta: both(107) })).toMatchObject({
      ok: true,
      exact: false,
    });
    expect(judge(unresolved, { seen: both(104), delta: both(109) }).ok).toBe(false);
  });

  it('only warns about other traffic when this run’s ids are all there exactly once', () => {
    const verdict = judge(expected, { seen: both(100), delta: both(150) });
    expect(verdict.ok).toBe(true);
    expect(verdict.warnings[0]).toContain('other traffic');
  });
});
