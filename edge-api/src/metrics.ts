/**
 * The edge's Prometheus metrics, in a registry of its own (so that tests can build many apps in one process).
 * Labels are bounded: `route` is one of the app's routes or `(unmatched)`, never the raw path.
 */
import type { MiddlewareHandler } from 'hono';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface EdgeMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  inFlight: Gauge;
  submitsInFlight: Gauge;
  messages: Counter<'outcome'>;
}

/** Creates the metrics in `registry`, or in a new registry that also holds the default Node.js metrics. */
export function createMetrics(registry?: Registry): EdgeMetrics {
  const register = registry ?? new Registry();
  if (registry === undefined) collectDefaultMetrics({ register });
  const registers = [register];
  return {
    registry: register,
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
    submitsInFlight: new Gauge({
      name: 'edge_ingest_submits_in_flight',
      help: 'Submits to the ingest awaiting an answer (bounded by MAX_IN_FLIGHT).',
      registers,
    }),
    messages: new Counter({
      name: 'edge_messages_total',
      help: 'Messages handed to the ingest, by outcome: accepted, rejected (429), failed (503 or ingest refusal).',
      labelNames: ['outcome'] as const,
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
