/** Builds the gRPC server (no port bound), so tests run it in-process. */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { healthHandlers, healthService, loadWeatherPackage } from '@tandem/proto';
import { createHandlers, type HandlerOptions } from './handlers.ts';

export { createHandlers, type HandlerOptions } from './handlers.ts';

export function createIngestServer(options: HandlerOptions): Server {
  const server = new Server({
    // Connections are recycled so that clients (round_robin over DNS) spread onto replicas that start later.
    'grpc.max_connection_age_ms': 60_000,
    'grpc.max_connection_age_grace_ms': 30_000,
    // Clients send keepalive pings; allow them (the client default of 30 s is well above this floor).
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  });
  server.addService(loadWeatherPackage().weather.WeatherService.service, createHandlers(options));
  // SERVING while every broker can take messages: the edge's /ready asks this.
  server.addService(
    healthService,
    healthHandlers(() => Object.values(options.publishers).every((publisher) => publisher.isReady())),
  );
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
