/**
 * What the HTTP edge needs from the ingest, and nothing more: hand over validated messages, say whether it can.
 * The app depends on this interface only; `index.ts` chooses the gRPC or the HTTP/JSON implementation by INGEST_ADDR
 * (`create.ts`), tests an in-memory one.
 *
 * The split: the app handles HTTP (reads, validates, answers); the gateway handles the call to the ingest (its
 * deadline, the caller's abort, the bound on calls in flight) and says how it failed as a typed `IngestError`,
 * which the app turns into the HTTP answer.
 */
import type { MessageInput } from '@tandem/message';

/** A validated, normalised message that already has its idempotency id (the client's or a new UUIDv7). */
export type IngestMessage = MessageInput & { id: string };

export interface IngestGateway {
  /**
   * Resolves only once the ingest accepted every message (docs/architecture.md, "Guarantees"); all-or-nothing from
   * the caller's view. Rejects with an `IngestError` for every failure it understands, within its deadline, and at
   * once with `overloaded` when too many calls are out already. Several messages may share an id: the ingest and
   * the counters are idempotent, so the gateway passes them on as they are, in order.
   * An aborted `signal` cancels the call (the messages may or may not have been accepted; a retry is safe).
   */
  submit(messages: readonly IngestMessage[], signal?: AbortSignal): Promise<void>;
  /**
   * One message (POST /input), resolving only once the ingest accepted it, and rejecting with its own outcome:
   * concurrent ones may ride one call (ProcessTweets), but one message refused fails only its own caller. An aborted
   * `signal` before the call went takes the message out (it is never sent); after, the message goes on (a retry
   * with the same id is safe).
   */
  submitOne(message: IngestMessage, signal?: AbortSignal): Promise<void>;
  /** Whether the ingest can be reached now. Resolves false rather than rejecting; answers within about a second. */
  isReady(): Promise<boolean>;
}

/**
 * The defaults of both gateways; the edge's INGEST_DEADLINE_MS and MAX_IN_FLIGHT default to these, README.md
 * documents them.
 */
export const ingestGatewayDefaults = Object.freeze({
  /** Deadline of every call to the ingest. */
  deadlineMs: 5_000,
  /** How long `isReady()` waits for the ingest. */
  readyTimeoutMs: 1_000,
  /**
   * Calls out to the ingest at once, whatever each carries; one more is refused with `overloaded` at once instead
   * of queueing.
   */
  maxInFlight: 2048,
  /** Most concurrent POST /input messages gathered into one ProcessTweets call; 1 turns gathering off. */
  coalesceMax: 64,
  /**
   * Longest a gathering waits after its first message for a gathered call to come back (ms); 0: never waits, each
   * goes at the end of its turn of the event loop.
   */
  coalesceLingerMs: 5,
  /** Gathered calls unanswered before the next gathering waits for one to come back (coalesce.ts). */
  coalesceCallsOut: 1,
  /**
   * Shortest time between two gathered calls going, unless full (ms): under load each call then carries ~10 ms of
   * messages. At 2,000 msg/s on the bench's 2 cores, tandem's CPU per message fell from 412–416 to 318–329 µs for
   * ~4 ms more median latency (bench/README.md). At low load a message goes at once.
   */
  coalesceIntervalMs: 10,
});

/**
 * Why a submit failed, as the HTTP edge answers it:
 * - `unavailable`: the ingest or a broker is down, or it did not confirm → 503 with Retry-After.
 * - `overloaded`: the edge's own bound on calls in flight, or the ingest refused for load (RESOURCE_EXHAUSTED)
 *   → 429 with Retry-After.
 * - `invalid`: the ingest rejected the content (should not happen after the edge validated) → 400.
 * - `deadline`: no answer within the deadline → 503 with Retry-After.
 * In every case but `invalid`, the messages may have been accepted anyway; a retry with the same ids is safe.
 */
export type IngestErrorKind = 'unavailable' | 'overloaded' | 'invalid' | 'deadline';

export class IngestError extends Error {
  override name = 'IngestError';
  readonly kind: IngestErrorKind;
  /** A hint for the Retry-After header, when the ingest gave one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: IngestErrorKind,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
