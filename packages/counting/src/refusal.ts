/**
 * A server that is up but refuses writes, told apart from every other failure: the condition passes by itself (or
 * by an operator's hand) and the batch must then be applied again, so a consumer holds it and retries rather than
 * treat it as an outage.
 *
 *   oom       Redis/Valkey at `maxmemory` under `noeviction`: "OOM command not allowed when used memory > 'maxmemory'."
 *   readonly  a replica (after a fail-over, or `REPLICAOF`): "READONLY You can't write against a read only replica."
 *
 * The counting script starts with `#!lua`, so either server refuses it as a whole before it runs: a refused
 * message is not recorded and not counted.
 */

export type WriteRefusal = 'oom' | 'readonly';

/** The first word of the server's error reply for each refusal (ioredis: SimpleError, iovalkey: ReplyError). */
const replyCodes: Readonly<Record<string, WriteRefusal>> = { OOM: 'oom', READONLY: 'readonly' };

/**
 * `apply()` rejected because the server refuses writes. The refused messages were neither recorded nor counted; if
 * the refusal began part-way through the batch, the ones before it were, and are duplicates when it comes again.
 */
export class StoreWriteRefusedError extends Error {
  override name = 'StoreWriteRefusedError';
  readonly reason: WriteRefusal;

  constructor(reason: WriteRefusal, message: string, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * Why the server refused a write, if that is what `error` says: a StoreWriteRefusedError, or a server reply
 * starting with OOM or READONLY, itself or down its `cause` chain. Undefined for anything else.
 */
export function writeRefusalOf(error: unknown): WriteRefusal | undefined {
  const seen = new Set<unknown>();
  for (let current = error; current instanceof Error && !seen.has(current); current = current.cause) {
    seen.add(current);
    if (current instanceof StoreWriteRefusedError) return current.reason;
    const code = replyCodes[current.message.split(' ', 1)[0] ?? ''];
    if (code) return code;
  }
  return undefined;
}

/** What each server answers, word for word (Redis 7.0, Valkey 8.0): the memory store answers the same. */
export const refusalReplies: Readonly<Record<WriteRefusal, string>> = {
  oom: "OOM command not allowed when used memory > 'maxmemory'.",
  readonly: "READONLY You can't write against a read only replica.",
};
