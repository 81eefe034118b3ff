/**
 * The edge's Prometheus metrics: the app's (HTTP requests) and the ingest gateway's (its calls), in the registry
 * given (index.ts gives both the same one) or else each in a new one, so that tests can build many in one process.
 * Labels are bounded: `route` is one of the app's routes or `(unmatched)`, never the raw path.
 */
import type { MiddlewareHandler } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The app's: HTTP requests. */
export interface EdgeMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  inFlight: Gauge;
  /** Requests refused before any work: `missing_key` (401), `invalid_key` (403), `rate_limited` (429). */
  refused: Counter<'reason'>;
  /** Clients with a rate-limit bucket now (bounded). */
  rateLimitBuckets: Gauge;
}

/** The ingest gateway's: its calls to the ingest. */
export interface IngestCallMetrics {
  submitsInFlight: Gauge;
  messages: Counter<'outcome'>;
  /** Messages per call: how many single messages the coalescer gathered, or a client's batch. */
  callMessages: Histogram;
}

/** A registry that also collects the default Node.js metrics: index.ts gives it to the app and the gateway. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Creates the app's metrics in `registry`, by default a new one from `createRegistry()`. */
export function createMetrics(registry: Registry = createRegistry()): EdgeMetrics {
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inFlight: new Gauge({
      name: 'http_requests_in_flight',
      help: 'HTTP requests being handled now.',
      registers,
    }),
    refused: new Counter({
      name: 'edge_requests_refused_total',
      help: 'Requests refused by the guard, by reason: missing_key (401), invalid_key (403), rate_limited (429).',
      labelNames: ['reason'] as const,
      registers,
    }),
    rateLimitBuckets: new Gauge({
      name: 'edge_rate_limit_buckets',
      help: 'Clients with a rate-limit bucket in memory (idle ones are dropped once full again).',
      registers,
    }),
  };
}

/** Creates the gateway's metrics in `registry`. */
export function createIngestCallMetrics(registry: Registry): IngestCallMetrics {
  const registers = [registry];
  return {
    submitsInFlight: new Gauge({
      name: 'edge_ingest_submits_in_flight',
      help: 'Calls to the ingest awaiting an answer, whatever each carries (bounded by MAX_IN_FLIGHT).',
      registers,
    }),
    messages: new Counter({
      name: 'edge_messages_total',
      help: 'Messages handed to the ingest, by outcome: accepted, rejected (429), failed (503 or ingest refusal).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    callMessages: new Histogram({
      name: 'edge_ingest_call_messages',
      help: 'Messages per call to the ingest: POST /input requests gathered into one call, or a batch.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 500],
      registers,
    }),
  };
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Middleware: counts and times every request, including the ones answered with an error. */
export function requestMetrics(metrics: EdgeMetrics, routes: ReadonlySet<string>): MiddlewareHandler {
  return async function requestMetrics(c, next) {
    metrics.inFlight.inc();
    const stop = metrics.duration.startTimer();
    try {
      await next();
    } finally {
      metrics.inFlight.dec();
      const labels = {
        method: METHODS.has(c.req.method) ? c.req.method : 'OTHER',
        route: routes.has(c.req.path) ? c.req.path : '(unmatched)',
        status: String(c.res.status),
      };
      stop(labels);
      metrics.requests.inc(labels);
    }
  };
}
