/**
 * The bench's first reference: a bare Hono app on the same @hono/node-server and the same Node as the edge, that
 * only parses the JSON body and answers 202 — what one Node process serving HTTP costs on this machine, without
 * anything tandem does (validation, ids, the call to the ingest, metrics). tandem's single-message rate is
 * reported as a share of what this serves under the same load generator.
 *
 *   node loadtest/src/reference/bare-hono.ts [port]   # prints `listening <port>` once it accepts connections
 */
import { edgeServerDefaults, listen } from '@tandem/edge-api/listen';
import { Hono } from 'hono';

const app = new Hono();
// The body is parsed (that is part of any JSON API's cost) and dropped; the answer has the edge's shape.
app.post('/input', async (c) => {
  await c.req.json();
  return c.json({ status: 'accepted' }, 202);
});
app.post('/input/batch', async (c) => {
  await c.req.json();
  return c.json({ status: 'accepted' }, 202);
});

const port = Number(process.argv[2] ?? 0);
// The edge's own server (timeouts, connection bound, backlog), so that the two differ only in what the handler does.
const server = listen(
  { fetch: app.fetch, port, hostname: '127.0.0.1', maxConnections: edgeServerDefaults.maxConnections },
  (info) => console.log(`listening ${info.port}`),
);
const stop = () => server.close(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
