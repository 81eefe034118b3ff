/**
 * Gathers concurrent single messages (POST /input) into one ProcessTweets call, and settles each caller from its
 * own message's result: one refused message fails only its own request.
 *
 * - A gathering goes when it holds `maxBatch` messages, or `lingerMs` after its first one came (0: at the end of
 *   the current turn of the event loop, so that only messages already arrived ride together). Nothing else waits:
 *   the queue never holds more than `maxBatch` messages, and the call it becomes is bounded like every other (the
 *   gateway's MAX_IN_FLIGHT calls; over it, every message of the gathering is answered `overloaded` at once).
 * - A caller whose signal aborts (its client went away) before its gathering went is taken out: its message is
 *   never sent. Once the gathering went, its message goes on with the others (one client cannot cancel a call that
 *   carries other clients' messages) and its outcome has nobody to tell: the message may or may not be accepted,
 *   as with any answer lost on the way, and a retry with the same id is counted once.
 * - A failure of the call as a whole (the bound, the deadline, the ingest down) is every caller's failure.
 */
import { abortError } from './calls.ts';
import type { IngestError, IngestMessage } from './contract.ts';

export interface CoalescerOptions {
  /** Most messages in one call. */
  maxBatch: number;
  /** How long the first message of a gathering waits for more (ms). */
  lingerMs: number;
}

/** Sends one gathering: one outcome per message, in order (undefined: accepted); rejects for them all. */
export type SendGathered = (messages: IngestMessage[]) => Promise<(IngestError | undefined)[]>;

interface Waiting {
  message: IngestMessage;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class Coalescer {
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  readonly #send: SendGathered;
  #waiting: Waiting[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(options: CoalescerOptions, send: SendGathered) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    }
    this.#maxBatch = options.maxBatch;
    this.#lingerMs = options.lingerMs;
    this.#send = send;
  }

  /** Messages waiting for their gathering to go (at most maxBatch − 1 between calls). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves once the ingest accepted this message; rejects with its own IngestError, or the call's. */
  submit(message: IngestMessage, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = {
        message,
        resolve,
        reject,
        signal,
        onAbort: () => {
          // Still waiting: taken out, never sent. Gone already: nothing to undo (see above).
          const index = this.#waiting.indexOf(entry);
          if (index === -1) return;
          this.#waiting.splice(index, 1);
          if (this.#waiting.length === 0) this.#cancelTimer();
          reject(abortError(signal as AbortSignal));
        },
      };
      signal?.addEventListener('abort', entry.onAbort, { once: true });
      this.#waiting.push(entry);
      if (this.#waiting.length >= this.#maxBatch) this.flush();
      else if (this.#timer === undefined) {
        this.#timer = this.#lingerMs > 0 ? setTimeout(this.flush, this.#lingerMs) : setImmediate(this.flush);
      }
    });
  }

  /** Sends what is waiting now, as one call. */
  readonly flush = (): void => {
    this.#cancelTimer();
    const gathered = this.#waiting;
    if (gathered.length === 0) return;
    this.#waiting = [];
    for (const entry of gathered) entry.signal?.removeEventListener('abort', entry.onAbort);
    let sent: Promise<(IngestError | undefined)[]>;
    try {
      sent = this.#send(gathered.map((entry) => entry.message));
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (outcomes) =>
        gathered.forEach((entry, i) => {
          const error = outcomes[i];
          if (error === undefined) entry.resolve();
          else entry.reject(error);
        }),
      (error: unknown) => {
        for (const entry of gathered) entry.reject(error);
      },
    );
  };

  #cancelTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }
}
