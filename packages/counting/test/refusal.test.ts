import { describe, expect, it } from 'vitest';
import { refusalReplies, StoreWriteRefusedError, writeRefusalOf } from '../src/index.ts';

/** What apply() throws for a failed pipeline: the script's failure as `cause`, as in server-store.ts. */
const failedBatch = (reply: string) =>
  new Error(`the counting script failed for 2 of 2 messages: ${reply}`, { cause: new Error(reply) });

describe('writeRefusalOf', () => {
  it("reads the servers' replies word for word (Redis 7.0 and Valkey 8.0 answer the same)", () => {
    expect(writeRefusalOf(new Error(refusalReplies.oom))).toBe('oom');
    expect(writeRefusalOf(new Error(refusalReplies.readonly))).toBe('readonly');
    expect(refusalReplies).toEqual({
      oom: "OOM command not allowed when used memory > 'maxmemory'.",
      readonly: "READONLY You can't write against a read only replica.",
    });
  });

  it('follows the cause chain, and takes the reason of a StoreWriteRefusedError', () => {
    expect(writeRefusalOf(failedBatch(refusalReplies.oom))).toBe('oom');
    expect(writeRefusalOf(new Error('outer', { cause: failedBatch(refusalReplies.readonly) }))).toBe(
      'readonly',
    );
    expect(writeRefusalOf(new StoreWriteRefusedError('readonly', 'whatever it says'))).toBe('readonly');
  });

  it('is undefined for every other failure', () => {
    for (const error of [
      new Error('Connection is closed.'),
      new Error('ERR value is not an integer or out of range script: …'),
      new Error('NOSCRIPT No matching script.'),
      new Error('LOADING Redis is loading the dataset in memory'),
      new Error('the store says OOM somewhere inside'),
      failedBatch('WRONGTYPE Operation against a key holding the wrong kind of value'),
      'OOM as a string, not an error',
      undefined,
    ]) {
      expect(writeRefusalOf(error)).toBeUndefined();
    }
  });

  it('ends on a cause chain that loops', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(writeRefusalOf(a)).toBeUndefined();
  });
});
