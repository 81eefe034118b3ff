/** Builds the ingest's servers (no port bound), so tests run them in-process. */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { healthHandlers, healthService, loadWeatherPackage } from '@tandem/proto';
import { createHandlers } from './handlers.ts';
import type { Ingest } from './ingest.ts';

export { createIngestHttpApp, type IngestHttpOptions } from './http.ts';
export { createIngest, type Ingest, IngestCallError, type IngestOptions } from './ingest.ts';
export { createHandlers };

export function createIngestServer(ingest: Ingest): Server {
  const server = new Server({
    // Connections are recycled so that clients (round_robin over DNS) spread onto replicas that start later.
    'grpc.max_connection_age_ms': 60_000,
    'grpc.max_connection_age_grace_ms': 30_000,
    // Clients send keepalive pings; allow them (the client default of 30 s is well above this floor).
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(loadWeatherPackage().weather.WeatherService.service, createHandlers(ingest));
  // SERVING while every broker can take messages: the edge's /ready asks this.
  server.addService(healthService, healthHandlers(ingest.isServing));
  return server;
}

export function bind(server: Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    );
  });
}

/** Refuses new calls, lets the ones in flight finish (bounded by `graceMs`), then stops. */
export function shutdown(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
