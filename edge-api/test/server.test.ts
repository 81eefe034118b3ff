// The app served by @hono/node-server on a real socket, as index.ts serves it: there the body and headers are read
// from Node's IncomingMessage (body.ts), not from the web Request that `app.request` gives. The same bad-input
// table as app.test.ts, and what only a socket shows: a chunked body over the limit, a client gone mid-body.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/app.ts';
import { badInputCases, JSON_TYPE, json, message } from './cases.ts';
import { MemoryIngest } from './memory-ingest.ts';

let ingest: MemoryIngest;
let app: ReturnType<typeof createApp>;
let server: ServerType;
let port = 0;

beforeAll(async () => {
  port = await new Promise<number>((resolve) => {
    server = serve(
      { fetch: (request, env) => app.fetch(request, env), port: 0, hostname: '127.0.0.1' },
      (info: AddressInfo) => resolve(info.port),
    );
  });
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  ingest = new MemoryIngest();
  app = createApp({ ingest });
});

interface Answer {
  status: number;
  text: string;
}

/** A request with exactly these headers (fetch would add its own), the body written in the chunks given. */
function send(
  path: string,
  chunks: (string | Uint8Array)[],
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', agent: false, headers },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (chunk: Buffer) => parts.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
      },
    );
    // An answer given before the whole body was sent (413) may race the rest of the body: the answer is what counts.
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

const withLength = (body: string | Uint8Array, headers: Record<string, string>) => ({
  'content-length': String(Buffer.byteLength(body)),
  ...headers,
});

describe('the app on a socket (IncomingMessage)', () => {
  it('answers 202 and hands the message on, with the Idempotency-Key read from the raw headers', async () => {
    const body = json(message);
    const answer = await send(
      '/input',
      [body],
      withLength(body, { ...JSON_TYPE, 'Idempotency-Key': 'srv-1' }),
    );
    expect([answer.status, JSON.parse(answer.text)]).toEqual([202, { id: 'srv-1', status: 'accepted' }]);
    expect(ingest.submitted).toEqual([
      [{ id: 'srv-1', description: 'Está lloviendo', country: 'GT', weather: 'Rainy' }],
    ]);
  });

  it('reads a chunked body (no Content-Length) in pieces', async () => {
    const body = json([message, message]);
    const answer = await send('/input/batch', [body.slice(0, 10), body.slice(10)], JSON_TYPE);
    expect(answer.status).toBe(202);
    expect(ingest.submitted[0]).toHaveLength(2);
  });

  it.each(badInputCases.filter(([, , body]) => typeof body === 'string' || body instanceof Uint8Array))(
    '%s → %s %i %s',
    async (_name, path, body, headers, status, code) => {
      const answer = await send(path, [body as string | Uint8Array], withLength(body as string, headers));
      expect(answer.status).toBe(status);
      expect(JSON.parse(answer.text).error.code).toBe(code);
      expect(ingest.submitted).toEqual([]);
    },
  );

  it('answers 413 to a chunked body that grows over the limit, reading no further', async () => {
    const chunk = 'x'.repeat(16 * 1024);
    const answer = await send(
      '/input',
      ['{"description":"', ...Array.from({ length: 6 }, () => chunk), '"}'],
      JSON_TYPE,
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.text).error.code).toBe('body_too_large');
  });

  it('hands nothing on when the client goes away mid-body', async () => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path: '/input',
      method: 'POST',
      agent: false,
      headers: { ...JSON_TYPE, 'content-length': '1000' },
    });
    request.on('error', () => {});
    request.write('{"description":"half');
    await new Promise((resolve) => setTimeout(resolve, 50));
    request.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(ingest.submitted).toEqual([]);
    // The server is none the worse for it.
    const body = json(message);
    await vi.waitFor(async () =>
      expect((await send('/input', [body], withLength(body, JSON_TYPE))).status).toBe(202),
    );
  });
});
