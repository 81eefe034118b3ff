/**
 * The WeatherService as plain HTTP/JSON (`weatherHttpPaths` in @tandem/proto), a binding of the same ingest as the
 * gRPC service. It exists to measure gRPC against plain HTTP between the edge and the ingest on equal terms (bench
 * `--ingest http`): same validation, same publishing, same answers, only the transport differs. Served only when
 * HTTP_PORT is set.
 */
import { status } from '@grpc/grpc-js';
import { httpStatusOfGrpc, weatherHttpPaths } from '@tandem/proto';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type Ingest, IngestCallError } from './ingest.ts';

export interface IngestHttpOptions {
  /** Largest request body; gRPC's own default limit on a received message is the same 4 MiB. */
  maxBodyBytes?: number;
}

export function createIngestHttpApp(ingest: Ingest, options: IngestHttpOptions = {}): Hono {
  const app = new Hono();
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes ?? 4 * 1024 * 1024,
    onError: (c) => refuse(c, 413, 'the body is over the limit'),
  });

  app.post(weatherHttpPaths.ProcessTweet, limit, async (c) => {
    const body = await jsonBody(c);
    return c.json(await ingest.processTweet(body));
  });
  app.post(weatherHttpPaths.ProcessTweetBatch, limit, async (c) => {
    const body = await jsonBody(c);
    const tweets = (body as { tweets?: unknown } | null)?.tweets;
    if (!Array.isArray(tweets))
      throw new IngestCallError(status.INVALID_ARGUMENT, 'tweets: expected an array of WeatherTweet');
    return c.json(await ingest.processTweetBatch(tweets));
  });
  app.post(weatherHttpPaths.ProcessTweets, limit, async (c) => {
    const body = await jsonBody(c);
    const tweets = (body as { tweets?: unknown } | null)?.tweets;
    if (!Array.isArray(tweets))
      throw new IngestCallError(status.INVALID_ARGUMENT, 'tweets: expected an array of WeatherTweet');
    return c.json(await ingest.processTweets(tweets));
  });
  app.get(weatherHttpPaths.health, (c) =>
    ingest.isServing() ? c.json({ status: 'SERVING' }) : c.json({ status: 'NOT_SERVING' }, 503),
  );

  app.onError((error, c) => {
    if (error instanceof HttpRefusal) return refuse(c, error.httpStatus, error.message);
    if (!(error instanceof IngestCallError)) return refuse(c, 500, error.message);
    const code = httpStatusOfGrpc[error.code] ?? 500;
    if (code === 429 || code === 503) c.header('Retry-After', '1');
    return refuse(c, code, error.message);
  });
  app.notFound((c) => refuse(c, 404, `no route ${c.req.method} ${c.req.path}`));
  return app;
}

async function jsonBody(c: Context): Promise<unknown> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header('content-type') ?? ''))
    throw new HttpRefusal(415, 'the body must be application/json');
  try {
    return await c.req.json();
  } catch {
    throw new HttpRefusal(400, 'the body is not valid JSON');
  }
}

/** A refusal by the transport itself, before the ingest sees the call; answered as it is. */
class HttpRefusal extends Error {
  readonly httpStatus: 400 | 415;
  constructor(httpStatus: 400 | 415, message: string) {
    super(message);
    this.httpStatus = httpStatus;
  }
}

function refuse(c: Context, code: 400 | 404 | 413 | 415 | 429 | 500 | 503 | 504, message: string) {
  return c.json({ success: false, message }, code);
}
