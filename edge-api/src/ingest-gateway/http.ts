/**
 * The IngestGateway over plain HTTP/JSON, so that a benchmark can compare that transport with gRPC on the same
 * traffic. The ingest serves the same WeatherService as one POST per RPC (`weatherHttpPaths` in `@tandem/proto`).
 *
 * - Node's global fetch: its keep-alive connection pool is shared by every request. There is no balancing over
 *   several ingests (gRPC's round_robin): INGEST_ADDR `http://host:port` names one ingest, as the bench runs it.
 * - A deadline on every call, combined with the call's AbortSignal; either one aborts the request. The bound on
 *   calls in flight, the caller's abort and `success: false` are handled as for every gateway, by `IngestCalls`
 *   (calls.ts).
 * - One message → ProcessTweet (a WeatherTweet as JSON), several → ProcessTweetBatch (`{"tweets": [...]}`,
 *   all-or-nothing, ids in order); `submitOne` gathers concurrent single messages into one ProcessTweets call
 *   (`{"tweets": [...]}` → `{"results": [...]}`), as the gRPC gateway does, and falls back to one ProcessTweet per
 *   message when the ingest is older than that path (404/405).
 * - HTTP status → IngestError kind, the same kinds as the gRPC statuses the ingest maps them from
 *   (`httpStatusOfGrpc`): 400 → invalid, 429 → overloaded, 503 → unavailable, 504 or our own deadline → deadline,
 *   200 with `success: false` → unavailable (a broker did not confirm), and every other status (500, 413, 415, …),
 *   an unreadable answer or a failed connection → unavailable: the edge cannot tell whether the ingest published,
 *   and a retry with the same ids is safe. `Retry-After` (seconds) becomes `retryAfterSeconds`.
 * - Every response body is read to its end, errors included, so that no unread answer holds its connection out of
 *   the pool.
 * - `isReady()`: `GET /health` answers 200, i.e. the ingest is up and both its brokers can take messages.
 */
import { type WeatherTweet, weatherHttpPaths } from '@tandem/proto';
import { definedOnly } from '../options.ts';
import {
  abortError,
  type IngestAnswer,
  IngestCalls,
  type IngestGatewayOptions,
  type IngestResult,
  sendEachAlone,
} from './calls.ts';
import {
  IngestError,
  type IngestErrorKind,
  type IngestGateway,
  type IngestMessage,
  ingestGatewayDefaults,
} from './contract.ts';

export interface HttpIngestOptions extends IngestGatewayOptions {
  /** `http://host:port` (INGEST_ADDR): the ingest's HTTP/JSON listener, without a path. */
  address: string;
}

export class HttpIngestGateway implements IngestGateway {
  readonly #urls: Readonly<Record<keyof typeof weatherHttpPaths, string>>;
  readonly #calls: IngestCalls;
  /** Of every ProcessTweet / ProcessTweetBatch call, the response body included. */
  readonly #deadlineMs: number;
  readonly #readyTimeoutMs: number;

  constructor(options: HttpIngestOptions) {
    const settings = { ...ingestGatewayDefaults, ...definedOnly(options) };
    this.#deadlineMs = settings.deadlineMs;
    this.#readyTimeoutMs = settings.readyTimeoutMs;
    const base = new URL(options.address);
    // The paths are absolute: a path in the address would be silently dropped, so it is refused instead.
    if (base.protocol !== 'http:' || base.pathname !== '/' || base.search !== '' || base.hash !== '') {
      throw new TypeError(`the ingest address must be http://host:port, got ${options.address}`);
    }
    this.#urls = {
      ProcessTweet: new URL(weatherHttpPaths.ProcessTweet, base).href,
      ProcessTweetBatch: new URL(weatherHttpPaths.ProcessTweetBatch, base).href,
      ProcessTweets: new URL(weatherHttpPaths.ProcessTweets, base).href,
      health: new URL(weatherHttpPaths.health, base).href,
    };
    this.#calls = new IngestCalls(
      settings,
      (tweets, signal) => this.#send(tweets, signal),
      (tweets, signal) => this.#sendEach(tweets, signal),
    );
  }

  submit(messages: readonly IngestMessage[], signal?: AbortSignal): Promise<void> {
    return this.#calls.submit(messages, signal);
  }

  submitOne(message: IngestMessage, signal?: AbortSignal): Promise<void> {
    return this.#calls.submitOne(message, signal);
  }

  async isReady(): Promise<boolean> {
    if (this.#calls.closed) return false;
    try {
      const response = await fetch(this.#urls.health, { signal: AbortSignal.timeout(this.#readyTimeoutMs) });
      await response.arrayBuffer(); // read to the end, so that the connection is reused
      return response.status === 200;
    } catch {
      return false; // refused, reset, or no answer in time
    }
  }

  /** Later submits fail with `unavailable` and `isReady()` answers false; calls in flight run to their end. */
  close(): void {
    this.#calls.close();
  }

  /** One message → ProcessTweet (a WeatherTweet as JSON), several → ProcessTweetBatch (`{"tweets": [...]}`). */
  async #send(tweets: WeatherTweet[], signal: AbortSignal): Promise<IngestAnswer> {
    const [first] = tweets;
    const value =
      tweets.length === 1 && first !== undefined
        ? await this.#post(this.#urls.ProcessTweet, first, signal)
        : await this.#post(this.#urls.ProcessTweetBatch, { tweets }, signal);
    const answer = asAnswer(value);
    if (answer === undefined) throw new IngestError('unavailable', 'ingest sent an unreadable answer');
    return answer;
  }

  /**
   * A gathering → ProcessTweets (`{"tweets": [...]}` → `{"results": [...]}`). An ingest older than ProcessTweets
   * (the edge rolled out first) has no route for it and answers 404 (a server that knows the path but not the
   * method: 405); it gets each message as a ProcessTweet of its own instead (`sendEachAlone`), as the gRPC gateway
   * does on UNIMPLEMENTED.
   */
  async #sendEach(tweets: WeatherTweet[], signal: AbortSignal): Promise<IngestResult[]> {
    let value: unknown;
    try {
      value = await this.#post(this.#urls.ProcessTweets, { tweets }, signal);
    } catch (error) {
      const cause = error instanceof IngestError ? error.cause : undefined;
      if (!(cause instanceof HttpStatus && (cause.status === 404 || cause.status === 405))) throw error;
      return sendEachAlone(tweets, signal, (tweet, oneSignal) => this.#send([tweet], oneSignal));
    }
    const results = parseResults(value);
    if (results === undefined) throw new IngestError('unavailable', 'ingest sent an unreadable answer');
    return results;
  }

  /** POSTs `body` as JSON and returns the 200 answer's JSON value; throws an IngestError for every other outcome. */
  async #post(url: string, body: unknown, signal: AbortSignal): Promise<unknown> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#deadlineMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([deadline.signal, signal]),
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      if (deadline.signal.aborted) {
        throw new IngestError('deadline', `no answer from the ingest in ${this.#deadlineMs} ms`, {
          cause: error,
        });
      }
      throw new IngestError('unavailable', `the call failed: ${describe(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    const value = parseJson(text);
    if (response.status !== 200) {
      const answer = asAnswer(value);
      const message = `HTTP ${response.status}: ${answer ? answer.message : text.slice(0, 200)}`;
      throw new IngestError(kindOfStatus(response.status), message, {
        cause: new HttpStatus(response.status, message),
        retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    return value;
  }
}

/** The cause of an IngestError for an answer other than 200: its status, by which a missing route is told. */
class HttpStatus extends Error {
  override name = 'HttpStatus';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The kind for a status other than 200. */
function kindOfStatus(status: number): IngestErrorKind {
  switch (status) {
    case 400:
      return 'invalid';
    case 429:
      return 'overloaded';
    case 504:
      return 'deadline';
    default:
      return 'unavailable';
  }
}

/** `Retry-After` as delta-seconds, the only form the ingest sends; undefined when absent or another form. */
function parseRetryAfter(header: string | null): number | undefined {
  return header !== null && /^\s*\d+\s*$/.test(header) ? Number(header) : undefined;
}

/** The JSON value of `text`, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A WeatherResults-shaped value: `results`, an array of WeatherResponse-shaped objects with a numeric `code`. */
function parseResults(value: unknown): IngestResult[] | undefined {
  const results = (value as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return undefined;
  const parsed: IngestResult[] = [];
  for (const entry of results) {
    const answer = asAnswer(entry);
    if (answer === undefined) return undefined;
    const code = (entry as { code?: unknown }).code;
    parsed.push({ ...answer, code: typeof code === 'number' ? code : 0 });
  }
  return parsed;
}

/** A WeatherResponse-shaped JSON object (`success` a boolean), or undefined. */
function asAnswer(value: unknown): IngestAnswer | undefined {
  if (typeof value !== 'object' || value === null || !('success' in value)) return undefined;
  const { success, message } = value as { success: unknown; message?: unknown };
  if (typeof success !== 'boolean') return undefined;
  return { success, message: typeof message === 'string' ? message : '' };
}

/** fetch's own message is "fetch failed"; the reason (ECONNREFUSED, a reset, …) is in its cause. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
