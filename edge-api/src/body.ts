/**
 * Reading a JSON request body defensively: the content type and encoding first (415), then the size (413) — by the declared
 * Content-Length and again while streaming, since a chunked body declares none — then strict UTF-8 and JSON (400).
 * Nothing here echoes the body. JSON.parse is iterative in V8, so deep nesting costs memory (bounded by the size
 * limit), never the stack.
 *
 * Two sources, the same rules: under @hono/node-server the edge reads Node's own IncomingMessage (its headers
 * object and its 'data' events), which costs a fraction of the web layer on top of it — a `Request` turned real,
 * a `Headers` built from the raw headers, a ReadableStream adapted from the Node stream, a reader and a promise
 * per chunk (the profile showed them on every POST). Without one (`app.request` in tests, another runtime) it
 * reads the web `Request`.
 */
import { IncomingMessage } from 'node:http';
import { ApiError } from './errors.ts';

/** What a body is read from: Node's IncomingMessage when the server gives it, else the web Request. */
export type BodySource = Request | IncomingMessage;

/** A request header of either source; null when absent. */
export function headerOf(source: BodySource, name: string): string | null {
  if (!(source instanceof IncomingMessage)) return source.headers.get(name);
  const value = source.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

export interface ReadJsonOptions {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
}

/** `application/json` or any `application/*+json`, with no charset or a UTF-8 one (RFC 8259 allows nothing else). */
export function isJsonContentType(header: string | null): boolean {
  if (header === null) return false;
  const [type = '', ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json' && !/^application\/[a-z0-9!#$&^_.-]+\+json$/.test(type)) return false;
  return parameters.every((parameter) => {
    const [name, value = ''] = parameter.split('=', 2).map((part) => part.trim());
    return name !== 'charset' || ['utf-8', 'utf8', '"utf-8"'].includes(value);
  });
}

export async function readJsonBody(request: BodySource, options: ReadJsonOptions): Promise<unknown> {
  if (!isJsonContentType(headerOf(request, 'content-type'))) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'the body must be JSON: Content-Type: application/json',
    );
  }
  const encoding = headerOf(request, 'content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'the body must not be compressed (no Content-Encoding)',
    );
  }
  const declared = headerOf(request, 'content-length');
  if (declared !== null && Number(declared) > options.maxBytes) throw tooLarge(options.maxBytes);

  const bytes =
    request instanceof IncomingMessage
      ? await readIncoming(request, options.maxBytes)
      : await readLimited(request, options.maxBytes);
  let text: string;
  try {
    // fatal: invalid UTF-8 is an error, not U+FFFD silently counted as text. A leading BOM is dropped.
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError(400, 'invalid_encoding', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') throw new ApiError(400, 'invalid_json', 'the body is empty');
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'body_too_large', `the body must be at most ${maxBytes} bytes`);
}

/** The body of Node's request, up to maxBytes; stops reading (413) at the first byte over. */
function readIncoming(incoming: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onBroken);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        done();
        // What is left unread, @hono/node-server drains or destroys once the 413 is sent.
        incoming.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // The client went away or broke the stream mid-body: nobody may read this answer, but it is not a 500.
    const onBroken = (cause?: unknown) => {
      done();
      reject(new ApiError(400, 'invalid_body', 'the body could not be read', { cause }));
    };
    const onClose = () => {
      if (incoming.readableEnded) onEnd();
      else onBroken();
    };
    if (incoming.readableEnded || incoming.destroyed) {
      onBroken();
      return;
    }
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onBroken);
    incoming.on('close', onClose);
  });
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // The client went away or broke the stream mid-body: nobody may read this answer, but it is not a 500.
    throw new ApiError(400, 'invalid_body', 'the body could not be read', { cause: error });
  }
  return Buffer.concat(chunks, size);
}
