/**
 * What every call to the ingest goes through, whatever the transport, so that the gRPC and the HTTP/JSON gateways
 * handle a call alike; each gateway only says how to send one (`IngestSend`) and enforces its deadline on it.
 *
 * - Nothing to send: no call. The caller's signal already aborted, or the gateway closed: no call, a rejection.
 * - The bound: at most `maxInFlight` calls out at once; one more is refused at once with `overloaded` (the edge
 *   answers 429) rather than queued. A call holds its slot until the transport's call itself settles, even when
 *   its caller was answered first (aborted, or the backstop below): the bound is on work really outstanding at the
 *   ingest, not on callers still waiting.
 * - The caller's signal (the HTTP request's: its client went away) cancels the call, with the caller's reason.
 * - A backstop `backstopMs` past the deadline: a call the transport has not settled by then is answered `deadline`
 *   and cancelled, so that no caller can hang on a transport that never answers.
 * - The ingest's `success: false` → `unavailable` (a broker did not confirm).
 * - Metrics (`edge_ingest_submits_in_flight`, `edge_messages_total{outcome}`); the ingest's failures are logged at
 *   warn (the bound's refusals are not: they come in floods), accepted ids at debug.
 * A failure that is not an IngestError (a transport bug) is passed on as it is: the edge answers 500.
 */
import type { WeatherTweet } from '@tandem/proto';
import { type Logger, pino } from 'pino';
import { Registry } from 'prom-client';
import { createIngestCallMetrics, type IngestCallMetrics } from '../metrics.ts';
import { IngestError, type IngestMessage } from './contract.ts';

/** What every gateway takes besides its address. */
export interface IngestGatewayOptions {
  /** Deadline of every call. */
  deadlineMs?: number;
  /** How long `isReady()` waits for the ingest. */
  readyTimeoutMs?: number;
  /** Calls out at once before one more is refused with `overloaded`. */
  maxInFlight?: number;
  /** Where the call metrics go (the app's registry, so that /metrics shows them). Without one, a registry of its own. */
  registry?: Registry;
  /** Silent when not given. Bodies are never logged; ids only at debug. */
  logger?: Logger;
}

export interface IngestCallOptions extends Pick<IngestGatewayOptions, 'registry' | 'logger'> {
  deadlineMs: number;
  maxInFlight: number;
  /** How long past the deadline a call that has not settled is answered `deadline` anyway. Default 1 s. */
  backstopMs?: number;
}

/** What the edge reads of a WeatherResponse / WeatherBatchResponse. */
export interface IngestAnswer {
  success: boolean;
  message: string;
}

/**
 * Sends one call: ProcessTweet for one tweet, ProcessTweetBatch for several. Resolves with the ingest's answer,
 * rejects with an IngestError; `signal` aborting cancels the call.
 */
export type IngestSend = (tweets: WeatherTweet[], signal: AbortSignal) => Promise<IngestAnswer>;

export class IngestCalls {
  readonly #send: IngestSend;
  readonly #maxInFlight: number;
  /** From the start of a call to its backstop. */
  readonly #backstopMs: number;
  readonly #metrics: IngestCallMetrics;
  readonly #logger: Logger;
  #inFlight = 0;
  #closed = false;

  constructor(options: IngestCallOptions, send: IngestSend) {
    this.#send = send;
    this.#maxInFlight = options.maxInFlight;
    this.#backstopMs = options.deadlineMs + (options.backstopMs ?? 1_000);
    this.#metrics = createIngestCallMetrics(options.registry ?? new Registry());
    this.#logger = options.logger ?? pino({ level: 'silent' });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Later submits are refused with `unavailable`; calls in flight go on. */
  close(): void {
    this.#closed = true;
  }

  async submit(messages: readonly IngestMessage[], signal?: AbortSignal): Promise<void> {
    const count = messages.length;
    if (count === 0) return;
    if (signal?.aborted) throw abortError(signal);
    if (this.#closed) throw new IngestError('unavailable', 'the ingest gateway is closed');
    if (this.#inFlight >= this.#maxInFlight) {
      this.#metrics.messages.inc({ outcome: 'rejected' }, count);
      throw new IngestError('overloaded', `the edge is at its limit of ${this.#maxInFlight} calls in flight`);
    }
    const call = new AbortController();
    const backstop = setTimeout(
      () => call.abort(new IngestError('deadline', `no answer from the ingest in ${this.#backstopMs} ms`)),
      this.#backstopMs,
    );
    const onAbort = () => call.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#inFlight++;
    this.#metrics.submitsInFlight.inc();
    try {
      // async: a transport that throws synchronously still releases its slot.
      const sent = (async () => this.#send(messages.map(toTweet), call.signal))();
      sent.then(this.#release, this.#release);
      const answer = await Promise.race([sent, rejectOnAbort(call.signal)]);
      if (!answer.success) {
        throw new IngestError(
          'unavailable',
          `ingest did not accept${count > 1 ? ' the batch' : ''}: ${answer.message}`,
        );
      }
      this.#metrics.messages.inc({ outcome: 'accepted' }, count);
      this.#logger.debug({ ids: messages.map((m) => m.id) }, 'accepted');
    } catch (error) {
      const outcome = error instanceof IngestError && error.kind === 'overloaded' ? 'rejected' : 'failed';
      this.#metrics.messages.inc({ outcome }, count);
      if (error instanceof IngestError) {
        this.#logger.warn(
          { kind: error.kind, reason: error.message, messages: count },
          'ingest did not accept',
        );
      }
      throw error;
    } finally {
      clearTimeout(backstop);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  readonly #release = () => {
    this.#inFlight--;
    this.#metrics.submitsInFlight.dec();
  };
}

/** A message as the ingest takes it: the WeatherTweet fields only, whatever else the message carries. */
export function toTweet(message: IngestMessage): WeatherTweet {
  const { description, country, weather, id } = message;
  return { description, country, weather, id };
}

/**
 * The error of a call the caller's signal aborted: the caller's reason when it is an IngestError (the backstop, or
 * a caller's own deadline), so that the edge answers what was decided, else `unavailable`.
 */
export function abortError(signal: AbortSignal): IngestError {
  return signal.reason instanceof IngestError
    ? signal.reason
    : new IngestError('unavailable', 'the call was cancelled', { cause: signal.reason });
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(abortError(signal));
    else signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}
