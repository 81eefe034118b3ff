import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, register } from 'prom-client';

let defaultsCollected = false;

/** Serves the process's Prometheus registry on `GET /metrics` (and `GET /health`) on its own port. */
export function startMetricsServer(port: number, host = '0.0.0.0'): Promise<Server> {
  if (!defaultsCollected) {
    collectDefaultMetrics();
    defaultsCollected = true;
  }
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      register.metrics().then(
        (text) => response.writeHead(200, { 'content-type': register.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else if (request.method === 'GET' && request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
