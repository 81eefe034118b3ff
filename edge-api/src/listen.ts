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
  server.maxConnections = options.maxConnections;
  return server;
}
