/**
 * The edge's HTTP server, as index.ts runs it (and the tests, on a port of their own): @hono/node-server with the
 * timeouts and the connection bound below, listening with a backlog as large as that bound.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';

/** Defined here only: EDGE_MAX_CONNECTIONS defaults to maxConnections. */
export const edgeServerDefaults = { maxConnections: 1024 } as const;

export interface ListenOptions {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname?: string;
  /** Past this many open connections a new one is closed at once (Node's `server.maxConnections`). */
  maxConnections: number;
}

export function listen(options: ListenOptions, onListening?: (info: AddressInfo) => void): Server {
  const server = createAdaptorServer({
    fetch: options.fetch,
    // A slow client cannot hold a connection forever: whole request in 30 s, headers in 10 s. Keep-alive longer
    // than a typical load balancer's idle timeout (60 s), so that the balancer closes first and never races us.
    serverOptions: { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 },
  }) as Server;
  // Bounded, the heap held by open connections is too: past the bound a client is refused, the edge stays up.
  server.maxConnections = options.maxConnections;
  // The kernel completes handshakes while the event loop is busy and queues them until they are accepted. At
  // Node's default backlog (511) a burst of new clients beyond it lost its SYNs, and each such client waited for
  // its retransmission, 1 s and then 3 s later: at the start of a 2,000 req/s run against a cold edge, thousands
  // of dropped SYNs and an HTTP p99 of 1.5–2 s. As many as the edge holds may wait (the kernel caps it at
  // net.core.somaxconn).
  server.listen(
    {
      port: options.port,
      ...(options.hostname ? { host: options.hostname } : {}),
      backlog: options.maxConnections,
    },
    () => onListening?.(server.address() as AddressInfo),
  );
  return server;
}
