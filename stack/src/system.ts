/**
 * `npm start`: the four services on the local stack, supervised the way a cluster would: prefixed logs, a
 * service that dies is restarted with exponential backoff, and Ctrl-C / SIGTERM stops them all cleanly (each
 * drains its in-flight work on SIGTERM).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '@tandem/config';

interface Service {
  name: string;
  /** Answers 200 once the service is up (its metrics server, or the edge itself). */
  healthUrl: string;
  colour: number;
}

const edgePort = Number(process.env.PORT ?? 8080);
/** Started in this order: the ingest creates the topic and queue the others use. */
export const services: readonly Service[] = [
  { name: 'grpc-ingest', healthUrl: 'http://127.0.0.1:9464/health', colour: 35 },
  { name: 'kafka-consumer', healthUrl: 'http://127.0.0.1:9465/health', colour: 33 },
  { name: 'rabbit-consumer', healthUrl: 'http://127.0.0.1:9466/health', colour: 32 },
  { name: 'edge-api', healthUrl: `http://127.0.0.1:${edgePort}/health`, colour: 34 },
];

const firstBackoffMs = 500;
const maxBackoffMs = 30_000;
/** A service that stayed up this long is healthy again: its next crash restarts it without delay growth. */
const stableAfterMs = 30_000;
const stopGraceMs = 30_000;

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const label = (service: Service) => {
  const name = service.name.padEnd(15);
  return colour ? `\x1b[${service.colour}m${name}\x1b[0m │` : `${name} │`;
};
const say = (message: string) =>
  console.log(`${colour ? '\x1b[36mtandem\x1b[0m         ' : 'tandem          '}│ ${message}`);

const running = new Map<string, ChildProcess>();
let stopping = false;

function launch(service: Service, backoffMs = firstBackoffMs): void {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['src/index.ts'], {
    cwd: join(projectRoot, service.name),
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(service.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`${label(service)} ${line}`));
  }
  child.on('exit', (code, signal) => {
    running.delete(service.name);
    if (stopping) return;
    const next =
      Date.now() - startedAt > stableAfterMs ? firstBackoffMs : Math.min(backoffMs * 2, maxBackoffMs);
    const delay = Date.now() - startedAt > stableAfterMs ? firstBackoffMs : backoffMs;
    say(`${service.name} exited (${signal ?? `code ${code}`}); restarting in ${(delay / 1000).toFixed(1)}s`);
    setTimeout(() => {
      if (!stopping) launch(service, next);
    }, delay).unref();
  });
}

async function healthy(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return true;
    } catch {
      // not yet listening
    }
    await sleep(200);
  }
  return false;
}

async function stopAll(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping ${[...running.keys()].join(', ')}`);
  // The edge first, so nothing new comes in while the rest drain; then the others together.
  const order = [...services].reverse();
  for (const service of order) {
    const child = running.get(service.name);
    if (!child) continue;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    if (service.name === 'edge-api') await Promise.race([exited, sleep(stopGraceMs)]);
  }
  const deadline = Date.now() + stopGraceMs;
  while (running.size > 0 && Date.now() < deadline) await sleep(100);
  for (const child of running.values()) child.kill('SIGKILL');
  say('all services stopped (the local stack keeps running: `npm run stack:down` stops it)');
  process.exit(0);
}

process.on('SIGINT', () => void stopAll('SIGINT'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));
// npm does not pass a SIGTERM it receives on to the script it runs: when `npm start` goes away, so do we.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stopAll('npm exited');
}, 500).unref();

for (const service of services) {
  launch(service);
  // Wait for each before the next: the ingest creates the Kafka topic and the queue.
  if (!(await healthy(service.healthUrl, 60_000)) && !stopping) {
    say(`${service.name} did not become healthy within 60s; continuing (it is restarted if it dies)`);
  }
}
if (await healthy(`http://127.0.0.1:${edgePort}/ready`, 60_000)) {
  say('ready');
  say(
    `edge-api   http://127.0.0.1:${edgePort}  (POST /input, POST /input/batch, GET /health, /ready, /metrics)`,
  );
  say('metrics    http://127.0.0.1:9464/metrics (ingest) :9465 (kafka-consumer) :9466 (rabbit-consumer)');
  say(
    `try        curl -s -X POST http://127.0.0.1:${edgePort}/input -H 'content-type: application/json' -d '{"description": "Está lloviendo", "country": "GT", "weather": "Lluvioso"}'`,
  );
  say('then       npm run compare');
}
