/**
 * A raw HTTP/1.1 request with exactly the headers given: fetch() adds a Content-Type of its own to a string body
 * and refuses a Content-Length that disagrees with the body, and hostile input needs both.
 */
import { request as httpRequest } from 'node:http';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export type RawBody = string | Uint8Array | null | AsyncIterable<Uint8Array>;

export function rawRequest(
  url: string,
  method: string,
  body: RawBody,
  headers: Record<string, string>,
  timeoutMs = 20_000,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    let answered = false;
    const streamed = body !== null && typeof body === 'object' && Symbol.asyncIterator in body;
    const bytes = body === null || streamed ? undefined : Buffer.from(body as string | Uint8Array);
    const hasLength = Object.keys(headers).some((name) => name.toLowerCase() === 'content-length');
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method,
        agent: false,
        // No `Connection: close`: with it Node closes the socket as soon as it answered, and an answer given
        // before the whole body was read (413) can be lost to a TCP reset while the client is still sending.
        headers: {
          ...(bytes && !hasLength ? { 'content-length': String(bytes.length) } : {}),
          ...headers,
        },
        timeout: timeoutMs,
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    // The edge may answer (413) and close before it read everything we meant to send: that is its right, and the
    // answer may still arrive; if the connection closes without one, the request fails.
    let failure: Error | undefined;
    request.on('error', (error: NodeJS.ErrnoException) => {
      failure = error;
    });
    request.on('close', () => {
      setTimeout(() => reject(failure ?? new Error('the connection closed without an answer')), 1000).unref();
    });
    if (streamed) {
      (async () => {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          if (request.destroyed) return;
          // Answered early (413): the rest would only be read and dropped, so end the body here.
          if (answered) break;
          if (!request.write(chunk)) await new Promise((resolve) => request.once('drain', resolve));
        }
        request.end();
      })().catch(() => request.destroy());
    } else {
      request.end(bytes);
    }
  });
}
