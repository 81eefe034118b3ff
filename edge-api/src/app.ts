/**
 * The HTTP edge as a Hono app, built without listening (index.ts binds it; tests call `app.request`).
 * It validates and normalises input, assigns ids, and answers 202 only after the ingest accepted the messages.
 * It depends on an `IngestGateway`, never on gRPC.
 *
 * Statuses and error codes (all errors are `{"error": {"code", "message", "details"}}`):
 *   400 invalid_json, invalid_encoding, invalid_body, invalid_message, invalid_batch, invalid_id, id_conflict,
 *       idempotency_key_not_supported, rejected_by_ingest
 *   404 not_found · 405 method_not_allowed (Allow) · 413 body_too_large, batch_too_large
 *   415 unsupported_media_type · 429 overloaded (Retry-After)
 *   503 ingest_unavailable, ingest_timeout, not_ready (Retry-After) · 500 internal (a bug, never bad input)
 */

import { isValidId, MAX_ID_LENGTH, newMessageId, parseMessageInput } from '@tandem/message';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { type Logger, pino } from 'pino';
import type { Registry } from 'prom-client';
import { readJsonBody } from './body.ts';
import { ApiError, errorResponse } from './errors.ts';
import { IngestError, type IngestGateway, type IngestMessage } from './ingest-gateway/contract.ts';
import { createMetrics, requestMetrics } from './metrics.ts';
import { definedOnly } from './options.ts';

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
  /** Submits awaiting the ingest at once; one more is answered 429 at once instead of queueing. */
  maxInFlight: 2048,
  /** A safety net over the gateway's own deadline, so that no request can hang. */
  submitTimeoutMs: 10_000,
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
  maxInFlight?: number;
  submitTimeoutMs?: number;
  retryAfterSeconds?: number;
  readyTimeoutMs?: number;
  /** Silent when not given. Bodies are never logged; ids only at debug. */
  logger?: Logger;
  /** Where the metrics go. Without one, a new registry that also collects the default Node.js metrics. */
  registry?: Registry;
  /** True once shutdown began: GET /ready answers 503 so that the load balancer stops sending requests. */
  isDraining?: () => boolean;
}

/** The routes and their methods; any other method on these paths is a 405, any other path a 404. */
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  '/input': ['POST'],
  '/input/batch': ['POST'],
  '/health': ['GET', 'HEAD'],
  '/ready': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD'],
};

export function createApp(options: AppOptions): Hono {
  const settings = { ...defaults, ...definedOnly(options) };
  const { ingest } = options;
  const logger = options.logger ?? pino({ level: 'silent' });
  const metrics = createMetrics(options.registry);
  const isDraining = options.isDraining ?? (() => false);
  let submitsInFlight = 0;

  /** Hands messages to the ingest within the in-flight bound and the timeout; maps every failure to an ApiError. */
  async function submit(messages: IngestMessage[], request: Request): Promise<void> {
    const count = messages.length;
    if (submitsInFlight >= settings.maxInFlight) {
      metrics.messages.inc({ outcome: 'rejected' }, count);
      throw new ApiError(
        429,
        'overloaded',
        `the edge is at its limit of ${settings.maxInFlight} submits in flight`,
        {
          headers: { 'Retry-After': String(settings.retryAfterSeconds) },
        },
      );
    }
    submitsInFlight++;
    metrics.submitsInFlight.inc();
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new IngestError('deadline', `no answer from the ingest in ${settings.submitTimeoutMs} ms`),
        ),
      settings.submitTimeoutMs,
    );
    const onClientGone = () =>
      controller.abort(new IngestError('unavailable', 'the client closed the request'));
    if (request.signal.aborted) onClientGone();
    else request.signal.addEventListener('abort', onClientGone, { once: true });
    try {
      // async: a gateway that throws synchronously still releases its slot.
      const work = (async () => ingest.submit(messages, controller.signal))();
      // The slot is held until the gateway itself settles, even when the timeout answered first: the bound is on
      // work really outstanding at the ingest, not on requests still waiting.
      const release = () => {
        submitsInFlight--;
        metrics.submitsInFlight.dec();
      };
      work.then(release, release);
      await Promise.race([work, rejectOnAbort(controller.signal)]);
      metrics.messages.inc({ outcome: 'accepted' }, count);
      logger.debug({ ids: messages.map((m) => m.id) }, 'accepted');
    } catch (error) {
      const outcome = error instanceof IngestError && error.kind === 'overloaded' ? 'rejected' : 'failed';
      metrics.messages.inc({ outcome }, count);
      if (!(error instanceof IngestError)) throw error; // a gateway bug: the error handler answers 500
      logger.warn({ kind: error.kind, reason: error.message, messages: count }, 'ingest did not accept');
      throw toApiError(error, settings.retryAfterSeconds);
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onClientGone);
    }
  }

  const app = new Hono();
  app.use('*', requestMetrics(metrics, new Set(Object.keys(ROUTES))));
  app.use('*', async function requestLog(c, next) {
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

  app.post('/input', async (c) => {
    const body = await readJsonBody(c.req.raw, { maxBytes: settings.maxBodyBytes });
    const headerId = idempotencyKey(c.req.header('idempotency-key'));
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
    await submit([{ ...parsed.value, id }], c.req.raw);
    return c.json({ id, status: 'accepted' }, 202);
  });

  app.post('/input/batch', async (c) => {
    const body = await readJsonBody(c.req.raw, { maxBytes: settings.maxBatchBodyBytes });
    if (c.req.header('idempotency-key') !== undefined) {
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
      return new ApiError(429, 'overloaded', `the ingest is overloaded; ${retry} later`, {
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

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
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
