/**
 * Reading a JSON request body defensively: the content type and encoding first (415), then the size (413) — by the declared
 * Content-Length and again while streaming, since a chunked body declares none — then strict UTF-8 and JSON (400).
 * Nothing here echoes the body. JSON.parse is iterative in V8, so deep nesting costs memory (bounded by the size
 * limit), never the stack.
 */
import { ApiError } from './errors.ts';

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

export async function readJsonBody(request: Request, options: ReadJsonOptions): Promise<unknown> {
  if (!isJsonContentType(request.headers.get('content-type'))) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'the body must be JSON: Content-Type: application/json',
    );
  }
  const encoding = request.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'the body must not be compressed (no Content-Encoding)',
    );
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > options.maxBytes) throw tooLarge(options.maxBytes);

  const bytes = await readLimited(request, options.maxBytes);
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
