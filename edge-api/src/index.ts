// edge-api: wiring only. Configuration, the gRPC gateway, the app, the server, and a clean stop on SIGTERM/SIGINT.
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { loadServiceConfig } from '@tandem/config';
import { createLogger } from '@tandem/service';
import { createApp } from './app.ts';
import { configSchema } from './config.ts';
import { GrpcIngestGateway } from './grpc-ingest.ts';

const config = loadServiceConfig('edge-api', configSchema);
const logger = createLogger('edge-api', config.LOG_LEVEL);
const ingest = new GrpcIngestGateway({ address: config.INGEST_ADDR, deadlineMs: config.INGEST_DEADLINE_MS });
let draining = false;
const app = createApp({
  ingest,
  logger,
  maxInFlight: config.MAX_IN_FLIGHT,
  // The gateway's deadline answers first; this only guards against a call that never settles.
  submitTimeoutMs: config.INGEST_DEADLINE_MS + 1_000,
  isDraining: () => draining,
});

const server = serve(
  {
    fetch: app.fetch,
    port: config.PORT,
    // A slow client cannot hold a connection forever: whole request in 30 s, headers in 10 s. Keep-alive longer
    // than a typical load balancer's idle timeout (60 s), so that the balancer closes first and never races us.
    serverOptions: { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 65_000 },
  },
  (info) => {
    logger.info(
      {
        port: info.port,
        ingest: config.INGEST_ADDR,
        deadlineMs: config.INGEST_DEADLINE_MS,
        maxInFlight: config.MAX_IN_FLIGHT,
      },
      'edge-api listening',
    );
    ingest.isReady().then((ready) => {
      if (!ready)
        logger.warn(
          { ingest: config.INGEST_ADDR },
          'ingest not reachable yet; /ready answers 503 until it is',
        );
    });
  },
) as Server;

const SHUTDOWN_TIMEOUT_MS = 25_000; // under Kubernetes' default 30 s grace period

function shutdown(signal: NodeJS.Signals): void {
  if (draining) return;
  draining = true;
  logger.info({ signal }, 'stopping: no new connections; finishing requests in flight');
  const force = setTimeout(() => {
    logger.error('requests still in flight after the shutdown timeout; exiting anyway');
    ingest.close();
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  force.unref();
  // close() stops accepting and closes idle keep-alive connections; busy ones close after their response.
  server.close((error) => {
    ingest.close();
    clearTimeout(force);
    if (error) logger.error({ err: error }, 'server close failed');
    logger.info('stopped');
    process.exit(error ? 1 : 0);
  });
  // A keep-alive connection that was busy at close() goes idle after its response: close it then.
  setInterval(() => server.closeIdleConnections(), 250).unref();
}

process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
