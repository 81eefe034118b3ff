// The edge's server on a real socket: past EDGE_MAX_CONNECTIONS a new connection is closed at once, the ones open
// go on being served, and room frees up as they close; while its event loop is busy, a burst of new connections up
// to that bound waits in the kernel instead of losing its SYNs.
import { spawn } from 'node:child_process';
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

  it('lets a burst of new connections up to its bound wait in the kernel while its event loop is busy', async () => {
    const port = await start(1024);
    // Past Node's default backlog (511): at that backlog the kernel dropped the SYNs of the rest, whose clients
    // tried again only a second later.
    const burst = 800;
    // A client in another process, so that its connects go on while this loop is blocked: it reports how many of
    // the burst completed their handshake within 600 ms.
    const client = spawn(
      process.execPath,
      [
        '-e',
        `const net = require('node:net');
         process.stdout.write('ready\\n');
         setTimeout(() => {
           let connected = 0;
           for (let i = 0; i < ${burst}; i++) {
             const socket = net.connect(${port}, '127.0.0.1', () => { connected += 1; });
             socket.on('error', () => {});
           }
           setTimeout(() => { process.stdout.write('connected ' + connected + '\\n'); process.exit(0); }, 600);
         }, 100);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    let blocked = false;
    const reported = new Promise<string>((resolve) => {
      client.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (!blocked && output.includes('ready')) {
          blocked = true;
          // Busy for 1.5 s: nothing is accepted meanwhile, as when the edge is busy under load.
          const until = performance.now() + 1500;
          while (performance.now() < until) {}
        }
        const match = /connected (\d+)/.exec(output);
        if (match) resolve(match[1] as string);
      });
    });
    expect(Number(await reported)).toBe(burst);
  });
});
