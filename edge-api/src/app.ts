/**
 * The HTTP edge as a Hono app, built without listening (index.ts binds it; tests call `app.request`).
 * It validates and normalises input, assigns ids, and answers 202 only after the ingest accepted the messages.
 * It depends on an `IngestGateway`, never on gRPC. The call to the ingest is the gateway's (its deadline, the bound
 * on calls in flight, cancellation when the client goes away); the app turns the gateway's typed failure into the
 * answer below.
 *
 * Optionally guarded (both off unless given): API keys on the message routes (auth.ts: 401 before the body is read,
 * 403 with a wrong key), and a per-client token bucket (rate-limit.ts: 429 rate_limited once the messages are
 * valid, before anything is sent on). /health, /ready and /metrics are never guarded.
 *
 * Statuses and error codes (all errors are `{"error": {"code", "message", "details"}}`):
 *   400 invalid_json, invalid_encoding, invalid_body, invalid_message, invalid_batch, invalid_id, id_conflict,
 *       idempotency_key_not_supported, rejected_by_ingest
 *   401 api_key_required · 403 api_key_invalid (WWW-Authenticate)
 *   404 not_found · 405 method_not_allowed (Allow) · 413 body_too_large, batch_too_large
 *   415 unsupported_media_type · 429 overloaded, rate_limited (Retry-After)
 *   503 ingest_unavailable, ingest_timeout, not_ready (Retry-After) · 500 internal (a bug, never bad input)
 */

import type { IncomingMessage } from 'node:http';
import { isValidId, MAX_ID_LENGTH, newMessageId, parseMessageInput } from '@tandem/message';
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import { apiKeyAuth } from './auth.ts';
import { type BodySource, headerOf, readJsonBody } from './body.ts';
import { ApiError, errorResponse } from './errors.ts';
import { IngestError, type IngestGateway, type IngestMessage } from './ingest-gateway/contract.ts';
import { createMetrics, requestMetrics } from './metrics.ts';
import { definedOnly } from './options.ts';
import { clientAddress, TokenBuckets } from './rate-limit.ts';

export type { ErrorBody } from './errors.ts';
export {
  IngestError,
  type IngestErrorKind,
  type IngestGateway,
  type IngestMessage,
} from './ingest-gateway/contract.ts';

/** The defaults of the limits below; README.md documents them. */
export const defaults = Object.freeze({
  /** Largest POST /input body. */
  maxBodyBytes: 64 * 1024,
  /** Largest POST /input/batch body. */
  maxBatchBodyBytes: 1024 * 1024,
  /** Most messages in one batch: one ProcessTweetBatch call; at 500 a full batch stays well under 1 MiB. */
  maxBatchSize: 500,
  /** Retry-After on 429 and 503 when the ingest gave no hint. */
  retryAfterSeconds: 1,
  /** How long GET /ready waits for `isReady()`. */
  readyTimeoutMs: 2_000,
});

export interface AppOptions {
  ingest: IngestGateway;
  maxBodyBytes?: number;
  maxBatchBodyBytes?: number;
  maxBatchSize?: number;
  retryAfterSeconds?: number;
  readyTimeoutMs?: number;
  /** Silent when not given. Bodies are never logged; ids only at debug. */
  logger?: Logger;
  /**
   * Where the HTTP metrics go, and what GET /metrics serves: give the gateway the same one (index.ts does) for its
   * call metrics to show too. Without one, a new registry that also collects the default Node.js metrics.
   */
  registry?: Registry;
  /** True once shutdown began: GET /ready answers 503 so that the load balancer stops sending requests. */
  isDraining?: () => boolean;
  /** API keys: when given (at least one), POST /input and /input/batch need `Authorization: Bearer <key>`. */
  apiKeys?: readonly string[];
  /**
   * A token bucket per client, a message costing one token: per API key when keys are on, else per address.
   * Off when not given.
   */
  rateLimit?: { perSecond: number; burst?: number; maxBuckets?: number; now?: () => number };
  /** X-Forwarded-For hops to trust for the client's address (rate limit without keys). Default 0: the socket's. */
  trustedProxies?: number;
}

/**
 * What the app's middleware hands on to its routes, and what the server binds: under @hono/node-server, Node's
 * request (`incoming`), read directly where the web layer would cost more (body.ts); absent under `app.request`.
 */
export type EdgeEnv = {
  Variables: { apiKeyIndex?: number };
  Bindings: { incoming?: IncomingMessage } | undefined;
};

/** Node's request when the server gave it, else the web Request. */
function source(c: Context<EdgeEnv>): BodySource {
  return c.env?.incoming ?? c.req.raw;
}

/** The routes and their methods; any other method on these paths is a 405, any other path a 404. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/input': ['POST'],
  '/input/batch': ['POST'],
  '/health': ['GET', 'HEAD'],
  '/ready': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
};

export function createApp(options: AppOptions): Hono<EdgeEnv> {
  const settings = { ...defaults, ...definedOnly(options) };
  const { ingest } = options;
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = createMetrics(options.registry);
  const isDraining = options.isDraining ?? (() => false);
  const keysOn = (options.apiKeys ?? []).length > 0;
  const buckets = options.rateLimit && new TokenBuckets(options.rateLimit);
  const trustedProxies = options.trustedProxies ?? 0;
  for (const reason of ['missing_key', 'invalid_key', 'rate_limited']) metrics.refused.labels(reason).inc(0);

  /**
   * Takes `cost` messages from the client's bucket (its key's when keys are on, else its address's), or refuses
   * with 429 rate_limited: nothing is sent on.
   */
  function limit(c: Context<EdgeEnv>, cost: number): void {
    if (!buckets) return;
    const index = c.get('apiKeyIndex');
    const client = index === undefined ? `address:${clientAddress(c, trustedProxies)}` : `key:${index}`;
    const taken = buckets.take(client, cost);
    metrics.rateLimitBuckets.set(buckets.size);
    if (taken.ok) return;
    metrics.refused.labels('rate_limited').inc();
    throw new ApiError(
      429,
      'rate_limited',
      `over this client's rate limit (${buckets.perSecond} messages per second, ${buckets.burst} at once); retry with the same id later`,
      { headers: { 'Retry-After': String(taken.retryAfterSeconds) } },
    );
  }

  /**
   * Hands messages to the ingest through the gateway — one message on its own (`submitOne`, gathered with
   * concurrent ones), a batch all-or-nothing — and turns a failure it understands into the HTTP answer.
   */
  async function submit(messages: IngestMessage[], request: Request, one = false): Promise<void> {
    try {
      // The request's signal: a client that goes away cancels its call (or leaves its gathering).
      const [first] = messages;
      if (one && first !== undefined) await ingest.submitOne(first, request.signal);
      else await ingest.submit(messages, request.signal);
    } catch (error) {
      if (!(error instanceof IngestError)) throw error; // a gateway bug: the error handler answers 500
      throw toApiError(error, settings.retryAfterSeconds);
    }
  }

  const app = new Hono<EdgeEnv>();
  app.use('*', requestMetrics(metrics, new Set(Object.keys(ROUTES))));
  app.use('*', async function requestLog(c, next) {
    // At info (the default) nothing is logged per request: skip building the line.
    if (!logger.isLevelEnabled('debug')) return next();
    const started = performance.now();
    await next();
    logger.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
      },
      'request',
    );
  });

  if (keysOn) {
    // Before the body is read: without a key, nothing is parsed. Only POST: other methods are 405 as ever.
    app.on(
      'POST',
      ['/input', '/input/batch'],
      apiKeyAuth({
        keys: options.apiKeys ?? [],
        onRefused: (reason) => metrics.refused.labels(reason).inc(),
        onAccepted: (c, index) => c.set('apiKeyIndex', index),
      }),
    );
  }

  app.post('/input', async (c) => {
    const from = source(c);
    const body = await readJsonBody(from, { maxBytes: settings.maxBodyBytes });
    const headerId = idempotencyKey(headerOf(from, 'idempotency-key') ?? undefined);
    const parsed = parseMessageInput(body);
    if (!parsed.ok)
      throw new ApiError(400, 'invalid_message', 'the message is invalid', { details: parsed.issues });
    const bodyId = parsed.value.id;
    if (headerId !== undefined && bodyId !== undefined && headerId !== bodyId) {
      throw new ApiError(
        400,
        'id_conflict',
        'the body id and the Idempotency-Key header differ; give one, or the same',
        {
          details: [{ field: 'id', code: 'id_conflict', message: 'differs from the Idempotency-Key header' }],
        },
      );
    }
    const id = bodyId ?? headerId ?? newMessageId();
    limit(c, 1);
    await submit([{ ...parsed.value, id }], c.req.raw, true);
    return c.json({ id, status: 'accepted' }, 202);
  });

  app.post('/input/batch', async (c) => {
    const from = source(c);
    const body = await readJsonBody(from, { maxBytes: settings.maxBatchBodyBytes });
    if (headerOf(from, 'idempotency-key') !== null) {
      throw new ApiError(
        400,
        'idempotency_key_not_supported',
        'Idempotency-Key applies to POST /input; in a batch, give each message its own "id"',
      );
    }
    const bound = `a JSON array of 1..${settings.maxBatchSize} messages`;
    if (!Array.isArray(body) || body.length === 0) {
      throw new ApiError(400, 'invalid_batch', `the body must be ${bound}`);
    }
    if (body.length > settings.maxBatchSize) {
      throw new ApiError(413, 'batch_too_large', `the body must be ${bound}, got ${body.length}`);
    }
    const messages: IngestMessage[] = [];
    const details: { index: number; field: string; code: string; message: string }[] = [];
    let invalid = 0;
    for (let index = 0; index < body.length; index++) {
      const parsed = parseMessageInput(body[index]);
      if (parsed.ok) {
        messages.push({ ...parsed.value, id: parsed.value.id ?? newMessageId() });
      } else {
        invalid++;
        for (const issue of parsed.issues) details.push({ index, ...issue });
      }
    }
    if (invalid > 0) {
      throw new ApiError(
        400,
        'invalid_message',
        `${invalid} of ${body.length} messages are invalid; none was accepted`,
        {
          details,
        },
      );
    }
    limit(c, messages.length);
    await submit(messages, c.req.raw);
    return c.json({ ids: messages.map((message) => message.id), status: 'accepted' }, 202);
  });

  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.get('/ready', async (c) => {
    const reason = isDraining()
      ? 'shutting down'
      : (await withTimeout(ingest.isReady(), settings.readyTimeoutMs))
        ? undefined
        : 'the ingest cannot be reached';
    if (reason === undefined) return c.json({ status: 'ready' });
    throw new ApiError(503, 'not_ready', reason, {
      headers: { 'Retry-After': String(settings.retryAfterSeconds) },
    });
  });

  app.get('/metrics', async (c) => {
    return c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
  });

  for (const [path, methods] of Object.entries(ROUTES)) {
    app.all(path, (c) => {
      throw new ApiError(
        405,
        'method_not_allowed',
        `${c.req.method} is not allowed on ${path}; use ${methods[0]}`,
        {
          headers: { Allow: methods.join(', ') },
        },
      );
    });
  }

  app.notFound(() => errorResponse(404, 'not_found', 'no such route'));

  app.onError((error, c) => {
    if (error instanceof HTTPException) return error.getResponse();
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'unexpected error');
    return errorResponse(500, 'internal', 'internal error');
  });

  return app;
}

/** The Idempotency-Key header: absent, or a valid id (a 400 otherwise). */
function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (isValidId(header)) return header;
  throw new ApiError(400, 'invalid_id', 'the Idempotency-Key header is not a valid id', {
    details: [
      {
        field: 'Idempotency-Key',
        code: 'invalid_id',
        message: `must be 1..${MAX_ID_LENGTH} characters, each an ASCII letter, digit, '.', '_', ':' or '-'`,
      },
    ],
  });
}

function toApiError(error: IngestError, fallbackRetryAfter: number): ApiError {
  const headers = { 'Retry-After': String(error.retryAfterSeconds ?? fallbackRetryAfter) };
  const retry = 'retry with the same id';
  switch (error.kind) {
    case 'overloaded':
      return new ApiError(429, 'overloaded', `the edge or the ingest is at its limit; ${retry} later`, {
        headers,
        cause: error,
      });
    case 'unavailable':
      return new ApiError(503, 'ingest_unavailable', `the ingest or a broker is unavailable; ${retry}`, {
        headers,
        cause: error,
      });
    case 'deadline':
      return new ApiError(503, 'ingest_timeout', `the ingest did not answer in time; ${retry}`, {
        headers,
        cause: error,
      });
    case 'invalid':
      return new ApiError(400, 'rejected_by_ingest', `the ingest rejected the message: ${error.message}`, {
        cause: error,
      });
  }
}

/** `promise`'s value, or false if it rejects or takes longer than `ms`. */
async function withTimeout(promise: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
