/**
 * Gathers concurrent single messages (POST /input) into one ProcessTweets call, and settles each caller from its
 * own message's result: one refused message fails only its own request.
 *
 * - When a gathering goes adapts to the ingest, as Kafka's producer does ("smart batching"): while fewer than
 *   `maxCallsOut` of the calls it sent are unanswered, a gathering goes at the end of the current turn of the event
 *   loop (only messages already arrived ride together: at low load nothing waits). Otherwise it waits until one of
 *   them comes back, so that under load each call carries what arrived during the previous one and the per-call
 *   cost (an HTTP/2 stream on both sides, a broker publish round in the ingest) is shared by many messages. It never
 *   waits for a call longer than `lingerMs` (a slow call does not hold the next ones up beyond that; 0: never
 *   waits), nor once it holds `maxBatch` messages: it goes at once, whatever is out.
 * - Under load, gatherings go at most once every `intervalMs` (as Kafka's producer lingers): one that could go
 *   sooner after the previous one went waits for the rest of the interval, unless it is full. A call costs the
 *   edge and the ingest several hundred µs of CPU whatever it carries, so fewer, fuller calls leave the machine's
 *   CPU to the brokers. At low load the previous call went long ago, and a message goes at once as before. The
 *   longest a message waits is therefore `intervalMs`, then `lingerMs` for a call out.
 * - Nothing else waits: the queue never holds more than `maxBatch` messages, and the call it becomes is bounded
 *   like every other (the gateway's MAX_IN_FLIGHT calls; over it, every message of the gathering is answered
 *   `overloaded` at once).
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
  /** Longest a gathering waits for a call to come back (ms); 0: never waits. */
  lingerMs: number;
  /** Calls of gathered messages unanswered before the next gathering waits for one to come back. Default 1. */
  maxCallsOut?: number;
  /** Shortest time between two gatherings going (ms), unless full; 0 (the default): none. */
  intervalMs?: number;
}

/** Sends one gathering: one outcome per message, in order (undefined: accepted); rejects for them all. */
export type SendGathered = (messages: IngestMessage[]) => Promise<(IngestError | undefined)[]>;

interface Waiting {
  message: IngestMessage;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class Coalescer {
  readonly #maxBatch: number;
  readonly #lingerMs: number;
  readonly #maxCallsOut: number;
  readonly #intervalMs: number;
  readonly #send: SendGathered;
  #waiting: Waiting[] = [];
  /** The gathering goes at the end of this turn. */
  #immediate: NodeJS.Immediate | undefined;
  /** The gathering waits for a call to come back, at most until this fires. */
  #linger: NodeJS.Timeout | undefined;
  /** The gathering waits for the rest of the interval since the previous one went. */
  #interval: NodeJS.Timeout | undefined;
  /** When the previous gathering went (performance.now()). */
  #lastSentAt = Number.NEGATIVE_INFINITY;
  /** Calls sent and not yet answered. */
  #callsOut = 0;

  constructor(options: CoalescerOptions, send: SendGathered) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${options.maxBatch}`);
    }
    const maxCallsOut = options.maxCallsOut ?? 1;
    if (!Number.isInteger(maxCallsOut) || maxCallsOut < 1) {
      throw new RangeError(`maxCallsOut must be a positive integer, got ${maxCallsOut}`);
    }
    if (!(options.lingerMs >= 0)) {
      throw new RangeError(`lingerMs must be 0 or more, got ${options.lingerMs}`);
    }
    const intervalMs = options.intervalMs ?? 0;
    if (!(intervalMs >= 0)) throw new RangeError(`intervalMs must be 0 or more, got ${intervalMs}`);
    this.#intervalMs = intervalMs;
    this.#maxBatch = options.maxBatch;
    this.#lingerMs = options.lingerMs;
    this.#maxCallsOut = maxCallsOut;
    this.#send = send;
  }

  /** Messages waiting for their gathering to go (at most maxBatch − 1 between calls). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Calls of gathered messages sent and not yet answered. */
  get callsOut(): number {
    return this.#callsOut;
  }

  /** Resolves once the ingest accepted this message; rejects with its own IngestError, or the call's. */
  submit(message: IngestMessage, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const entry: Waiting = { message, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        entry.onAbort = () => {
          // Still waiting: taken out, never sent. Gone already: nothing to undo (see above).
          const index = this.#waiting.indexOf(entry);
          if (index === -1) return;
          this.#waiting.splice(index, 1);
          if (this.#waiting.length === 0) this.#cancelTimers();
          reject(abortError(signal));
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this.#waiting.push(entry);
      if (this.#waiting.length >= this.#maxBatch) this.flush();
      else if (this.#waiting.length === 1) this.#schedule();
    });
  }

  /** Sends what is waiting now, as one call. */
  readonly flush = (): void => {
    this.#cancelTimers();
    const gathered = this.#waiting;
    if (gathered.length === 0) return;
    this.#waiting = [];
    this.#lastSentAt = performance.now();
    const messages = new Array<IngestMessage>(gathered.length);
    for (let i = 0; i < gathered.length; i++) {
      const entry = gathered[i] as Waiting;
      messages[i] = entry.message;
      if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    }
    let sent: Promise<(IngestError | undefined)[]>;
    try {
      sent = this.#send(messages);
    } catch (error) {
      sent = Promise.reject(error);
    }
    this.#callsOut += 1;
    sent.then(
      (outcomes) => {
        this.#answered();
        for (let i = 0; i < gathered.length; i++) {
          const entry = gathered[i] as Waiting;
          const error = outcomes[i];
          if (error === undefined) entry.resolve();
          else entry.reject(error);
        }
      },
      (error: unknown) => {
        this.#answered();
        for (const entry of gathered) entry.reject(error);
      },
    );
  };

  /** A first message waits: for the rest of the interval, if the previous gathering went less than it ago. */
  #schedule(): void {
    const rest = this.#lastSentAt + this.#intervalMs - performance.now();
    if (rest > 0) this.#interval ??= setTimeout(this.#intervalOver, rest);
    else this.#goWhenCallFree();
  }

  readonly #intervalOver = (): void => {
    this.#interval = undefined;
    if (this.#waiting.length === 0) return;
    // Timers run before the event loop reads sockets: nothing more would join by the end of this turn.
    if (this.#callsOut < this.#maxCallsOut) this.flush();
    else this.#goWhenCallFree();
  };

  /** Goes at the end of this turn if a call may go now, else waits for one (bounded by lingerMs). */
  #goWhenCallFree(): void {
    if (this.#callsOut < this.#maxCallsOut || this.#lingerMs <= 0) {
      this.#immediate ??= setImmediate(this.flush);
    } else {
      this.#linger ??= setTimeout(this.flush, this.#lingerMs);
    }
  }

  /**
   * A call came back: a gathering waiting for it goes at the end of this turn (not at once, so that requests read
   * in the same turn still join it).
   */
  #answered(): void {
    this.#callsOut -= 1;
    if (
      this.#waiting.length > 0 &&
      this.#callsOut < this.#maxCallsOut &&
      this.#immediate === undefined &&
      this.#interval === undefined // it goes when the interval is over
    ) {
      this.#immediate = setImmediate(this.flush);
    }
  }

  #cancelTimers(): void {
    if (this.#immediate !== undefined) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
    if (this.#linger !== undefined) {
      clearTimeout(this.#linger);
      this.#linger = undefined;
    }
    if (this.#interval !== undefined) {
      clearTimeout(this.#interval);
      this.#interval = undefined;
    }
  }
}
