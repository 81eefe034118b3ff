// edge-api: wiring only. Configuration, the ingest gateway (gRPC, or HTTP/JSON for an `http://` INGEST_ADDR), the app,
// the server, and a clean stop on SIGTERM/SIGINT.
import { loadServiceConfig } from '@tandem/config';
import { closeHttpServer, createLogger, onShutdown } from '@tandem/service';
import { createApp } from './app.ts';
import { apiKeysOf, configSchema, rateLimitOf } from './config.ts';
import { createIngestGateway } from './ingest-gateway/create.ts';
import { listen } from './listen.ts';
import { createRegistry } from './metrics.ts';

const config = loadServiceConfig('edge-api', configSchema);
const logger = createLogger('edge-api', config.LOG_LEVEL);
// One registry for the app's HTTP metrics and the gateway's call metrics, both served on /metrics.
const registry = createRegistry();
const ingest = createIngestGateway(config.INGEST_ADDR, {
  deadlineMs: config.INGEST_DEADLINE_MS,
  maxInFlight: config.MAX_IN_FLIGHT,
  coalesceMax: config.EDGE_COALESCE_MAX,
  coalesceLingerMs: config.EDGE_COALESCE_LINGER_MS,
  coalesceCallsOut: config.EDGE_COALESCE_CALLS_OUT,
  coalesceIntervalMs: config.EDGE_COALESCE_INTERVAL_MS,
  registry,
  logger,
});
let draining = false;
// The keys go to the app, which keeps only their digests; the log says how many, never which.
const apiKeys = apiKeysOf(config);
const rateLimit = rateLimitOf(config);
const app = createApp({
  ingest,
  logger,
  registry,
  isDraining: () => draining,
  apiKeys,
  rateLimit,
  trustedProxies: config.EDGE_TRUST_PROXY,
});

const server = listen(
  { fetch: app.fetch, port: config.PORT, maxConnections: config.EDGE_MAX_CONNECTIONS },
  (info) => {
    logger.info(
      {
        port: info.port,
        ingest: config.INGEST_ADDR,
        deadlineMs: config.INGEST_DEADLINE_MS,
        maxInFlight: config.MAX_IN_FLIGHT,
        maxConnections: config.EDGE_MAX_CONNECTIONS,
        coalesce: `${config.EDGE_COALESCE_MAX} messages, ${config.EDGE_COALESCE_CALLS_OUT} call(s) out, ${config.EDGE_COALESCE_LINGER_MS} ms linger, ${config.EDGE_COALESCE_INTERVAL_MS} ms apart`,
        apiKeys: apiKeys
          ? `${apiKeys.length} from ${config.EDGE_API_KEYS_FILE ? 'EDGE_API_KEYS_FILE' : 'EDGE_API_KEYS'}`
          : 'off',
        rateLimit: rateLimit ? `${rateLimit.perSecond}/s, burst ${rateLimit.burst}` : 'off',
        trustedProxies: config.EDGE_TRUST_PROXY,
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
);

// SIGTERM/SIGINT: /ready turns 503 at once (the load balancer stops sending), requests in flight finish, then the
// ingest connection closes. Bounded by onShutdown's 25 s, under Kubernetes' default 30 s grace period.
onShutdown(logger, async () => {
  draining = true;
  await closeHttpServer(server);
  ingest.close();
});
