import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';

let defaultsCollected = false;

export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => void;

export interface MetricsServerOptions {
  host?: string;
  /** More routes on the same port, keyed `"METHOD /path"` (the query string is ignored), e.g. `"GET /latency"`. */
  routes?: Readonly<Record<string, RouteHandler>>;
}

/** Serves the process's Prometheus registry on `GET /metrics` (and `GET /health`) on its own port. */
export function startMetricsServer(port: number, options: MetricsServerOptions = {}): Promise<Server> {
  if (!defaultsCollected) {
    collectDefaultMetrics();
    defaultsCollected = true;
  }
  const routes: Record<string, RouteHandler> = {
    'GET /metrics': (_, response) => {
      register.metrics().then(
        (text) => response.writeHead(200, { 'content-type': register.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    },
    'GET /health': (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    },
    ...options.routes,
  };
  const server = createServer((request, response) => {
    const route = routes[`${request.method} ${(request.url ?? '').split('?')[0]}`];
    if (route) route(request, response);
    else response.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '0.0.0.0', () => resolve(server));
  });
}
