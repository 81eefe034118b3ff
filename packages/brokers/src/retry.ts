/**
 * The one bounded retry of the tools' broker calls (withKafkaAdmin, withRabbitConnection) and of the Kafka
 * subscriber's backlog: an error the broker or the network calls transient is retried with exponential backoff and
 * jitter until a total time bound; any other error is thrown at once, as it is.
 */

export interface RetryOptions {
  /** No attempt starts after this long (ms) from the first; an attempt in flight is let finish. Default 30000. */
  timeoutMs?: number;
  /** Pause after the first failure (ms), doubling after each next one. Default 100. */
  initialDelayMs?: number;
  /** Longest pause (ms). Default 2000. */
  maxDelayMs?: number;
}

export const retryDefaults = { timeoutMs: 30_000, initialDelayMs: 100, maxDelayMs: 2_000 } as const;

export interface RetryPolicy extends RetryOptions {
  /** Who is retrying, for the error when the bound is exceeded (no secrets: it is logged). */
  what: string;
  isRetriable(error: unknown): boolean;
  /** Called before each pause. */
  onRetry?(info: { error: unknown; attempt: number; delayMs: number }): void;
}

/** The bound was exceeded: how many attempts were made, and the last one's error as `cause`. Not retriable. */
export class RetriesExhaustedError extends Error {
  override name = 'RetriesExhaustedError';
  /** For kafkajs's retrier and ours: retrying this again would only double the bound. */
  readonly retriable = false;
  readonly attempts: number;

  constructor(what: string, attempts: number, timeoutMs: number, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`${what}: gave up after ${attempts} attempts (bound ${timeoutMs} ms); last error: ${reason}`, {
      cause,
    });
    this.attempts = attempts;
  }
}

/**
 * Runs `work` until it resolves, an error that is not retriable (thrown as it is), or the bound (a
 * RetriesExhaustedError). Pauses double from `initialDelayMs` up to `maxDelayMs`, each drawn between half and all
 * of that (jitter: several tools retrying at once do not come back in step), and never past the bound.
 */
export async function retrying<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const timeoutMs = policy.timeoutMs ?? retryDefaults.timeoutMs;
  const initialDelayMs = policy.initialDelayMs ?? retryDefaults.initialDelayMs;
  const maxDelayMs = policy.maxDelayMs ?? retryDefaults.maxDelayMs;
  const started = Date.now();
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!policy.isRetriable(error)) throw error;
      const left = started + timeoutMs - Date.now();
      if (left <= 0) throw new RetriesExhaustedError(policy.what, attempt, timeoutMs, error);
      const base = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.min(left, Math.round(base / 2 + (Math.random() * base) / 2));
      policy.onRetry?.({ error, attempt, delayMs });
      // The global timer, not node:timers/promises: tests drive it with fake timers.
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  type?: unknown;
  retriable?: unknown;
  cause?: unknown;
  errors?: unknown;
}

const asErrorLike = (error: unknown): ErrorLike =>
  typeof error === 'object' && error !== null ? (error as ErrorLike) : {};

/** kafkajs errors that are transient although kafkajs marks them non-retriable. */
const transientKafkaErrorNames = new Set([
  // No broker answered FindCoordinator (all of them away, or restarting).
  'KafkaJSGroupCoordinatorNotFound',
]);

/**
 * Whether a kafkajs error is worth another attempt. kafkajs marks its protocol errors (NOT_COORDINATOR,
 * COORDINATOR_LOAD_IN_PROGRESS, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION,
 * REQUEST_TIMED_OUT, …) and its connection and request-timeout errors with `retriable: true`. When its own
 * retrier runs out it throws KafkaJSNumberOfRetriesExceeded, marked non-retriable, with the retriable error as
 * `cause`: that one is followed (our bound is longer than kafkajs's ~10 s). By name, not class: Node's ESM import of
 * kafkajs (CommonJS) cannot see its error classes as named exports.
 */
export function isRetriableKafkaError(error: unknown): boolean {
  let current = asErrorLike(error);
  for (let depth = 0; depth < 5; depth += 1) {
    if (current.retriable === true) return true;
    if (typeof current.name === 'string' && transientKafkaErrorNames.has(current.name)) return true;
    if (current.name !== 'KafkaJSNumberOfRetriesExceeded') return false;
    current = asErrorLike(current.cause);
  }
  return false;
}

/** Socket errors of a broker that is restarting, or of the network on the way. */
const transientSocketCodes = [
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
];
/** AMQP reply codes of a transient server condition: shutting down (320), out of a resource (506), internal (541). */
const transientReplyCodes = new Set([320, 506, 541]);
const transientAmqpMessage = new RegExp(
  [
    `\\b(${transientSocketCodes.join('|')})\\b`,
    // amqplib's own wording for a connection lost while opening, mid-request, or silent.
    'Socket closed abruptly',
    'Unexpected close',
    'Channel ended, no reply will be forthcoming',
    'Heartbeat timeout',
    // The same codes in a handshake refusal or a closed connection's message (amqplib gives those no `code`).
    '\\b(320|506|541) \\((CONNECTION-FORCED|RESOURCE-ERROR|INTERNAL-ERROR)\\)',
  ].join('|'),
);

/**
 * Whether an amqplib error is worth another attempt: the connection refused, reset or dropped while the broker
 * restarts, or a connection or channel closed by a transient server condition (320, 506, 541). Not a channel closed
 * by the broker for the request itself (404 NOT_FOUND queue, 406 PRECONDITION_FAILED, 403 ACCESS_REFUSED …), not
 * an authentication failure, not a connection this side closed.
 */
export function isRetriableAmqpError(error: unknown): boolean {
  const { code, message, errors } = asErrorLike(error);
  // A reply code says it all; one that is not transient settles it.
  if (typeof code === 'number') return transientReplyCodes.has(code);
  if (typeof code === 'string' && transientSocketCodes.includes(code)) return true;
  // net's AggregateError when every address of a host refused (`localhost`: ::1 and 127.0.0.1).
  if (Array.isArray(errors) && errors.length > 0) return errors.every(isRetriableAmqpError);
  return typeof message === 'string' && transientAmqpMessage.test(message);
}
