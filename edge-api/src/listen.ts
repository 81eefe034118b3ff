/**
 * The edge's HTTP server, as index.ts runs it (and the tests, on a port of their own): @hono/node-server with the
 * timeouts and the connection bound below.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

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
  const server = serve(
    {
      fetch: options.fetch,
      port: options.port,
      ...(options.hostname ? { hostname: options.hostname } : {}),
      // A slow client cannot hold a connection forever: whole request in 30 s, headers in 10 s. Keep-alive longer
      // than a typical load balancer's idle timeout (60 s), so that the balancer closes first and never races us.
      serverOptions: { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 },
    },
    onListening,
  ) as Server;
  // Bounded, the heap held by open connections is too: past the bound a client is refused, the edge stays up.
  // Node's listen backlog (511) is kept on purpose. One as large as this bound spared a cold edge's first burst of
  // new clients their SYN retransmissions (1 s), but in overload (4,000 msg/s on 2 cores) the connections it queued
  // were accepted only to be closed past the bound, and the churn of resets took the accepted rate from 3,616 to
  // 750 msg/s. A dropped SYN makes a client back off; a reset makes it reconnect at once.
  server.maxConnections = options.maxConnections;
  return server;
}
