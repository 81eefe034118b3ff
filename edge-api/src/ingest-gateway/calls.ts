/**
 * What every call to the ingest goes through, whatever the transport, so that the gRPC and the HTTP/JSON gateways
 * handle a call alike; each gateway only says how to send one (`IngestSend` for ProcessTweet / ProcessTweetBatch,
 * `IngestSendEach` for ProcessTweets) and enforces its deadline on it.
 *
 * - Nothing to send: no call. The caller's signal already aborted, or the gateway closed: no call, a rejection.
 * - The bound: at most `maxInFlight` calls out at once, whatever each carries (one message, a client's batch, or
 *   the coalescer's gathering of concurrent requests); one more is refused at once with `overloaded` (the edge
 *   answers 429) rather than queued. A call holds its slot until the transport's call itself settles, even when
 *   its caller was answered first (aborted, or the backstop below): the bound is on work really outstanding at the
 *   ingest, not on callers still waiting.
 * - The caller's signal (the HTTP request's: its client went away) cancels the call, with the caller's reason.
 * - A backstop `backstopMs` past the deadline: a call the transport has not settled by then is answered `deadline`
 *   and cancelled, so that no caller can hang on a transport that never answers.
 * - The ingest's `success: false` → `unavailable` (a broker did not confirm); in a ProcessTweets answer, each
 *   message's own result → that message's outcome (`resultError`).
 * - Metrics (`edge_ingest_submits_in_flight`, `edge_messages_total{outcome}`, `edge_ingest_call_messages`); the
 *   ingest's failures are logged at warn (the bound's refusals are not: they come in floods), accepted ids at
 *   debug.
 * A failure that is not an IngestError (a transport bug) is passed on as it is: the edge answers 500.
 */
import type { WeatherTweet } from '@tandem/proto';
import { type Logger, pino } from 'pino';
import { Registry } from 'prom-client';
import { createIngestCallMetrics, type IngestCallMetrics } from '../metrics.ts';
import { Coalescer } from './coalesce.ts';
import { IngestError, type IngestErrorKind, type IngestMessage, ingestGatewayDefaults } from './contract.ts';

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
  /** Most single messages gathered into one ProcessTweets call (`submitOne`); 1 sends each with ProcessTweet. */
  coalesceMax?: number;
  /** Longest a gathering waits for a gathered call to come back (ms); 0: never waits. */
  coalesceLingerMs?: number;
  /** Gathered calls unanswered before the next gathering waits for one to come back (coalesce.ts). */
  coalesceCallsOut?: number;
  /** Shortest time between two gathered calls going, unless full (ms); 0: none (coalesce.ts). */
  coalesceIntervalMs?: number;
}

export interface IngestCallOptions
  extends Pick<
    IngestGatewayOptions,
    'registry' | 'logger' | 'coalesceMax' | 'coalesceLingerMs' | 'coalesceCallsOut' | 'coalesceIntervalMs'
  > {
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

/**
 * One message's outcome in a ProcessTweets answer: WeatherResult's fields as the edge reads them, `code` a gRPC
 * status code (0 when accepted).
 */
export interface IngestResult {
  success: boolean;
  message: string;
  code: number;
}

/**
 * Sends one ProcessTweets call: resolves with one result per tweet, in order, or rejects with an IngestError when
 * the call as a whole failed; `signal` aborting cancels the call.
 */
export type IngestSendEach = (tweets: WeatherTweet[], signal: AbortSignal) => Promise<IngestResult[]>;

export class IngestCalls {
  readonly #send: IngestSend;
  readonly #sendEach: IngestSendEach | undefined;
  readonly #maxInFlight: number;
  /** From the start of a call to its backstop. */
  readonly #backstopMs: number;
  readonly #metrics: IngestCallMetrics;
  readonly #logger: Logger;
  readonly #coalescer: Coalescer | undefined;
  #inFlight = 0;
  #closed = false;

  constructor(options: IngestCallOptions, send: IngestSend, sendEach?: IngestSendEach) {
    this.#send = send;
    this.#sendEach = sendEach;
    this.#maxInFlight = options.maxInFlight;
    this.#backstopMs = options.deadlineMs + (options.backstopMs ?? 1_000);
    this.#metrics = createIngestCallMetrics(options.registry ?? new Registry());
    this.#logger = options.logger ?? pino({ level: 'silent' });
    const maxBatch = options.coalesceMax ?? ingestGatewayDefaults.coalesceMax;
    if (sendEach !== undefined && maxBatch > 1) {
      this.#coalescer = new Coalescer(
        {
          maxBatch,
          lingerMs: options.coalesceLingerMs ?? ingestGatewayDefaults.coalesceLingerMs,
          maxCallsOut: options.coalesceCallsOut ?? ingestGatewayDefaults.coalesceCallsOut,
          intervalMs: options.coalesceIntervalMs ?? ingestGatewayDefaults.coalesceIntervalMs,
        },
        (messages) => this.submitEach(messages),
      );
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Later submits are refused with `unavailable`; calls in flight go on. */
  close(): void {
    this.#closed = true;
  }

  /**
   * One message, answered from its own outcome: gathered with concurrent ones into one ProcessTweets call (see
   * coalesce.ts), or, with coalescing off (`coalesceMax` 1), sent alone with ProcessTweet.
   */
  submitOne(message: IngestMessage, signal?: AbortSignal): Promise<void> {
    if (this.#coalescer === undefined) return this.submit([message], signal);
    if (this.#closed) return Promise.reject(new IngestError('unavailable', 'the ingest gateway is closed'));
    return this.#coalescer.submit(message, signal);
  }

  /** All-or-nothing: ProcessTweet for one message, ProcessTweetBatch for several. */
  async submit(messages: readonly IngestMessage[], signal?: AbortSignal): Promise<void> {
    const count = messages.length;
    if (count === 0) return;
    this.#admit(count, signal);
    try {
      const answer = await this.#call(count, signal, (callSignal) =>
        this.#send(messages.map(toTweet), callSignal),
      );
      if (!answer.success) {
        throw new IngestError(
          'unavailable',
          `ingest did not accept${count > 1 ? ' the batch' : ''}: ${answer.message}`,
        );
      }
      this.#metrics.messages.inc({ outcome: 'accepted' }, count);
      if (this.#logger.isLevelEnabled('debug'))
        this.#logger.debug({ ids: messages.map((m) => m.id) }, 'accepted');
    } catch (error) {
      this.#failed(error, count);
      throw error;
    }
  }

  /**
   * Each message on its own, in one ProcessTweets call: one settled outcome per message, in order — `undefined`
   * when accepted, else the IngestError its request is answered with. A failure of the whole call (the bound, the
   * deadline, the ingest down, an abort) rejects, and stands for every message.
   */
  async submitEach(
    messages: readonly IngestMessage[],
    signal?: AbortSignal,
  ): Promise<(IngestError | undefined)[]> {
    const count = messages.length;
    if (count === 0) return [];
    const sendEach = this.#sendEach;
    if (sendEach === undefined) throw new TypeError('this transport has no ProcessTweets');
    this.#admit(count, signal);
    try {
      const results = await this.#call(count, signal, (callSignal) =>
        sendEach(messages.map(toTweet), callSignal),
      );
      if (results.length !== count) {
        throw new IngestError(
          'unavailable',
          `ingest answered ${results.length} results for ${count} messages`,
        );
      }
      const outcomes = results.map(resultError);
      const failed = outcomes.filter((outcome) => outcome !== undefined);
      const accepted = count - failed.length;
      if (accepted > 0) this.#metrics.messages.inc({ outcome: 'accepted' }, accepted);
      for (const error of failed) this.#metrics.messages.inc({ outcome: outcomeOf(error) });
      if (failed.length > 0) {
        this.#logger.warn(
          {
            kinds: [...new Set(failed.map((e) => e.kind))],
            reason: failed[0]?.message,
            messages: failed.length,
          },
          'ingest did not accept',
        );
      }
      if (this.#logger.isLevelEnabled('debug')) {
        this.#logger.debug({ ids: messages.filter((_, i) => !outcomes[i]).map((m) => m.id) }, 'accepted');
      }
      return outcomes;
    } catch (error) {
      this.#failed(error, count);
      throw error;
    }
  }

  /**
   * Whether a call may start now, else why not: an aborted caller or a closed gateway (not counted), or the bound
   * (counted `rejected`, not logged: such refusals come in floods). The bound counts calls, not messages: a
   * ProcessTweets call of 64 gathered messages holds one slot, as a batch of 500 does.
   */
  #admit(count: number, signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw abortError(signal);
    if (this.#closed) throw new IngestError('unavailable', 'the ingest gateway is closed');
    if (this.#inFlight >= this.#maxInFlight) {
      this.#metrics.messages.inc({ outcome: 'rejected' }, count);
      throw new IngestError('overloaded', `the edge is at its limit of ${this.#maxInFlight} calls in flight`);
    }
  }

  /** One call, admitted, under the backstop and the caller's signal; holds its slot until the transport settles. */
  async #call<T>(count: number, signal: AbortSignal | undefined, start: (signal: AbortSignal) => Promise<T>) {
    const call = new AbortController();
    const backstop = setTimeout(
      () => call.abort(new IngestError('deadline', `no answer from the ingest in ${this.#backstopMs} ms`)),
      this.#backstopMs,
    );
    const onAbort = () => call.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#inFlight++;
    this.#metrics.submitsInFlight.inc();
    this.#metrics.callMessages.observe(count);
    try {
      // async: a transport that throws synchronously still releases its slot.
      const sent = (async () => start(call.signal))();
      sent.then(this.#release, this.#release);
      return await Promise.race([sent, rejectOnAbort(call.signal)]);
    } finally {
      clearTimeout(backstop);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Counts and logs a call that failed as a whole. */
  #failed(error: unknown, count: number): void {
    const outcome = error instanceof IngestError ? outcomeOf(error) : 'failed';
    this.#metrics.messages.inc({ outcome }, count);
    if (error instanceof IngestError) {
      this.#logger.warn(
        { kind: error.kind, reason: error.message, messages: count },
        'ingest did not accept',
      );
    }
  }

  readonly #release = () => {
    this.#inFlight--;
    this.#metrics.submitsInFlight.dec();
  };
}

/** `rejected` for a refusal for load (429), `failed` for every other failure. */
function outcomeOf(error: IngestError): 'rejected' | 'failed' {
  return error.kind === 'overloaded' ? 'rejected' : 'failed';
}

/** The gRPC status code of a ProcessTweets result standing for each kind of failure, and back. */
const resultCodes: Readonly<Record<IngestErrorKind, number>> = Object.freeze({
  invalid: 3, // INVALID_ARGUMENT
  deadline: 4, // DEADLINE_EXCEEDED
  overloaded: 8, // RESOURCE_EXHAUSTED
  unavailable: 14, // UNAVAILABLE
});

/**
 * A ProcessTweets result as the edge answers its request: undefined when accepted; INVALID_ARGUMENT → invalid,
 * DEADLINE_EXCEEDED → deadline, RESOURCE_EXHAUSTED → overloaded, any other code → unavailable (the message may be
 * in a broker; a retry with the same id is safe).
 */
export function resultError(result: IngestResult): IngestError | undefined {
  if (result.success) return undefined;
  const kind =
    (Object.keys(resultCodes) as IngestErrorKind[]).find((k) => resultCodes[k] === result.code) ??
    'unavailable';
  return new IngestError(
    kind,
    kind === 'invalid' ? result.message : `ingest did not accept: ${result.message}`,
  );
}

/**
 * ProcessTweets for an ingest older than it (the edge rolled out first): each tweet sent alone with `sendOne`
 * (ProcessTweet), all at once, and each answer or failure turned into that message's result, as ProcessTweets
 * would have given it, so that every request is answered from its own message (a timeout as a timeout, a refusal
 * for load as one). Slower, but no request fails for the order in which the two were deployed. A failure that is
 * not an IngestError (a transport bug) fails the whole call.
 */
export function sendEachAlone(
  tweets: readonly WeatherTweet[],
  signal: AbortSignal,
  sendOne: (tweet: WeatherTweet, signal: AbortSignal) => Promise<IngestAnswer>,
): Promise<IngestResult[]> {
  return Promise.all(
    tweets.map((tweet) =>
      sendOne(tweet, signal).then(
        (answer): IngestResult => ({
          success: answer.success,
          message: answer.message,
          code: answer.success ? 0 : resultCodes.unavailable,
        }),
        (error: unknown): IngestResult => {
          if (!(error instanceof IngestError)) throw error;
          return { success: false, message: error.message, code: resultCodes[error.kind] };
        },
      ),
    ),
  );
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
