// The edge's server on a real socket: past EDGE_MAX_CONNECTIONS a new connection is closed at once, the ones open
// go on being served, and room frees up as they close.
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../src/listen.ts';

let server: Server | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

function start(maxConnections: number): Promise<number> {
  return new Promise((resolve) => {
    server = listen(
      {
        fetch: () => new Response('ok', { status: 200 }),
        port: 0,
        hostname: '127.0.0.1',
        maxConnections,
      },
      (info) => resolve(info.port),
    );
  });
}

/** One GET on a new keep-alive connection: the status line, or 'closed' when the server dropped the connection. */
function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\r\n\r\n')) resolve(text.split('\r\n')[0] ?? '');
    });
    socket.on('close', () => resolve('closed'));
    socket.on('error', () => resolve('closed'));
    socket.write('GET / HTTP/1.1\r\nHost: edge\r\nConnection: keep-alive\r\n\r\n');
  });
}

describe('the edge server', () => {
  it('closes connections past its bound and serves the ones it holds', async () => {
    const port = await start(2);
    expect(await ask(port)).toBe('HTTP/1.1 200 OK');
    expect(await ask(port)).toBe('HTTP/1.1 200 OK');
    // Two kept alive: a third is refused, not queued.
    expect(await ask(port)).toBe('closed');
    // One of the two goes: there is room again.
    sockets[0]?.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await ask(port)).toBe('HTTP/1.1 200 OK');
  });
});
