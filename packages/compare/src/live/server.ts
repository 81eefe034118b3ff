/**
 * The live comparison page: a small HTTP server that takes a snapshot (src/snapshot.ts, the same one `npm run
 * compare` prints) every second while someone watches, and pushes the view to the page over server-sent events.
 *
 *   GET /             the page (page/index.html; its script and style are served from here too: works offline)
 *   GET /events       text/event-stream, one `data: <view JSON>` a second
 *   GET /view.json    the latest view (taken now if nobody is watching)
 *
 * `npm start` runs it beside the services. It listens on 127.0.0.1 unless told otherwise: it shows the stores.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openSnapshotReader, type SnapshotSources } from '../snapshot.ts';
import { type LiveView, LiveViewBuilder, type ViewOptions } from './view.ts';

export interface LivePageOptions extends ViewOptions {
  sources: SnapshotSources;
  /** Default 8090; 0 picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How often a snapshot is taken while someone watches. Default 1000 ms. */
  intervalMs?: number;
}

export interface LivePage {
  url: string;
  close(): Promise<void>;
}

const assets: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Keeps on taking snapshots this long after the last request, so that a page that polls is served fresh views. */
const lingerMs = 10_000;

export async function startLivePage(options: LivePageOptions): Promise<LivePage> {
  const intervalMs = options.intervalMs ?? 1000;
  const files = Object.fromEntries(
    Object.entries(assets).map(([path, { file, type }]) => [
      path,
      { body: readFileSync(new URL(`./page/${file}`, import.meta.url)), type },
    ]),
  );
  // A source gets 3 s before it counts as not answering, but the page moves every interval: a slow answer is stood
  // in for by the last one meanwhile.
  const reader = openSnapshotReader({
    deadLettersEveryMs: 5_000,
    timeoutMs: 3_000,
    waitMs: Math.round(intervalMs * 0.8),
    ...options.sources,
  });
  const builder = new LiveViewBuilder(options);
  const watchers = new Set<ServerResponse>();
  let latest: LiveView | undefined;
  let wantedUntil = 0;
  let ticking: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const tick = (): Promise<void> => {
    ticking ??= reader
      .read()
      .then((snapshot) => {
        latest = builder.add(snapshot, intervalMs);
        const event = `data: ${JSON.stringify(latest)}\n\n`;
        for (const watcher of watchers) watcher.write(event);
      })
      .catch(() => {
        // Every source's failure is in the snapshot; a failure here is the reader's own, and the next tick retries.
      })
      .finally(() => {
        ticking = undefined;
      });
    return ticking;
  };
  const schedule = () => {
    if (closed || timer) return;
    timer = setInterval(() => {
      if (watchers.size === 0 && Date.now() > wantedUntil) {
        clearInterval(timer);
        timer = undefined;
        return;
      }
      void tick();
    }, intervalMs);
    timer.unref();
  };

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    const asset = files[path];
    if (asset) {
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' }).end(asset.body);
      return;
    }
    if (path === '/events') {
      response.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      // The browser reconnects by itself after a second if the stream breaks.
      response.write('retry: 1000\n\n');
      if (latest) response.write(`data: ${JSON.stringify(latest)}\n\n`);
      watchers.add(response);
      response.on('close', () => watchers.delete(response));
      void tick();
      schedule();
      return;
    }
    if (path === '/view.json') {
      wantedUntil = Date.now() + lingerMs;
      schedule();
      const answer = () =>
        response
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(latest));
      if (latest && Date.now() - latest.at < 2 * intervalMs) answer();
      else void tick().then(answer);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8090, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      closed = true;
      clearInterval(timer);
      for (const watcher of watchers) watcher.end();
      const stopped = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await stopped;
      await ticking;
      await reader.close();
    },
  };
}
