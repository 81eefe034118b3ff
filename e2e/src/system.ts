/**
 * The four services as real processes, on ports and names of their own so that a test run never touches what
 * `npm start` runs: its own Kafka topic and consumer group, its own RabbitMQ queue, and a Redis / Valkey
 * database number of its own (flushed before use).
 *
 * By default the connection settings come from the main stack's `.stack/env`; the fault suite passes the env file
 * of a private stack (`stackEnvFile`), whose brokers it may restart. With `supervise`, a service that exits without
 * being asked to (a crash, a kill -9) is started again with backoff, as `npm start`'s supervisor does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnv } from 'node:util';
import { removeKafkaResources, removeRabbitQueues, silentLogger } from '@tandem/brokers';
import { loadStackEnv, projectRoot } from '@tandem/config';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';

export type ServiceName = 'grpc-ingest' | 'kafka-consumer' | 'rabbit-consumer' | 'edge-api';

/** In start order: the ingest creates the topic and the queue the consumers read. */
export const serviceNames: readonly ServiceName[] = [
  'grpc-ingest',
  'kafka-consumer',
  'rabbit-consumer',
  'edge-api',
];

export interface SystemOptions {
  /** A dotenv file with KAFKA_BROKERS, RABBITMQ_URL, REDIS_URL, VALKEY_URL (a private stack's). Default `.stack/env`. */
  stackEnvFile?: string;
  /** Redis / Valkey database number. Default 1 + portBase % 15. */
  db?: number;
  /** Extra variables for every service (they win over the defaults here). */
  env?: Record<string, string>;
  /** Restart a service that exits unasked, with backoff (500 ms doubling to 10 s), as `npm start` does. */
  supervise?: boolean;
  /** Empty the Redis / Valkey database first. Default true. */
  flush?: boolean;
}

export interface SystemUnderTest {
  edgeUrl: string;
  ingestAddress: string;
  env: Record<string, string>;
  /** Starts a service and resolves once it answers its health check. */
  start(name: ServiceName): Promise<void>;
  /**
   * SIGTERM (clean) or SIGKILL (crash); resolves with the exit code when the process has exited. The service stays
   * down (the supervisor leaves it alone) until `start`.
   */
  stop(name: ServiceName, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  /** kill -9, as a crash: resolves once the process is gone. With `supervise`, the supervisor restarts it. */
  kill(name: ServiceName): Promise<void>;
  /** Resolves once the service's health check answers 200 (its metrics server, or the edge's /health). */
  waitHealthy(name: ServiceName, timeoutMs?: number): Promise<void>;
  /** The service's own HTTP port for /health and /metrics. */
  metricsUrl(name: ServiceName): string;
  /** How many times the supervisor restarted the service. */
  restarts(name: ServiceName): number;
  pid(name: ServiceName): number | undefined;
  /** Starts every service in `serviceNames` order (the ingest creates the topic and queue the consumers read). */
  startAll(): Promise<void>;
  /**
   * Stops every service, then removes the run's own topics, consumer group and queues (dead-letter ones included),
   * so that the local brokers do not keep every run's. What could not be removed is reported, not thrown.
   */
  stopAll(): Promise<void>;
  /** Log lines each service printed (stdout and stderr, every incarnation), for diagnosing a failure. */
  logs(name: ServiceName): string[];
}

function withDatabase(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

function connectionSettings(stackEnvFile: string | undefined): Record<string, string> {
  if (stackEnvFile === undefined) {
    if (!loadStackEnv()) throw new Error('no .stack/env: run `npm run stack:up` first');
    return {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
      RABBITMQ_URL: process.env.RABBITMQ_URL ?? '',
      REDIS_URL: process.env.REDIS_URL ?? '',
      VALKEY_URL: process.env.VALKEY_URL ?? '',
    };
  }
  if (!existsSync(stackEnvFile)) throw new Error(`no ${stackEnvFile}: bring that stack up first`);
  const file = parseEnv(readFileSync(stackEnvFile, 'utf8'));
  const settings: Record<string, string> = {};
  for (const name of ['KAFKA_BROKERS', 'RABBITMQ_URL', 'REDIS_URL', 'VALKEY_URL']) {
    const value = file[name];
    if (!value) throw new Error(`${stackEnvFile} has no ${name}`);
    settings[name] = value;
  }
  return settings;
}

interface Supervised {
  child: ChildProcess | undefined;
  /** The latest process, still set after it exited (for its exit code). */
  last: ChildProcess | undefined;
  /** False once stop() was called: an exit is then expected and not restarted. */
  wanted: boolean;
  restarts: number;
  backoffMs: number;
  startedAt: number;
}

/**
 * Removes the run's own topic, group and queue (named `own`), with the dead-letter ones the consumers name
 * `<topic>.dlq` / `<queue>.dlq`; a name that `options.env` pointed elsewhere is not the run's, and is left alone.
 */
async function removeRunResources(env: Record<string, string>, own: string): Promise<void> {
  const ours = (name: string | undefined) => (name === own ? [name, `${name}.dlq`] : []);
  const outcomes = await Promise.allSettled([
    removeKafkaResources({
      brokers: (env.KAFKA_BROKERS ?? '').split(','),
      topics: ours(env.KAFKA_TOPIC),
      groupIds: env.KAFKA_GROUP === own ? [own] : [],
      logger: silentLogger,
    }),
    removeRabbitQueues({ url: env.RABBITMQ_URL ?? '', queues: ours(env.RABBITMQ_QUEUE) }),
  ]);
  const [kafka, rabbitmq] = outcomes;
  const problems = [
    kafka.status === 'rejected' ? `kafka: ${(kafka.reason as Error).message}` : '',
    kafka.status === 'fulfilled' && kafka.value.left.length > 0
      ? `kafka kept ${kafka.value.left.join(', ')}`
      : '',
    rabbitmq.status === 'rejected' ? `rabbitmq: ${(rabbitmq.reason as Error).message}` : '',
  ].filter(Boolean);
  // A suite that ends with a broker down cannot clean up, and that must not fail the suite.
  if (problems.length > 0) console.warn(`[system] left behind after ${own}: ${problems.join('; ')}`);
}

export async function startSystem(portBase: number, options: SystemOptions = {}): Promise<SystemUnderTest> {
  const connection = connectionSettings(options.stackEnvFile);
  const run = `e2e-${randomUUID().slice(0, 8)}`;
  // Databases 1..15, chosen by port base so that concurrent suites do not share one.
  const db = options.db ?? 1 + (portBase % 15);
  const env: Record<string, string> = {
    KAFKA_BROKERS: connection.KAFKA_BROKERS ?? '',
    RABBITMQ_URL: connection.RABBITMQ_URL ?? '',
    REDIS_URL: withDatabase(connection.REDIS_URL ?? '', db),
    VALKEY_URL: withDatabase(connection.VALKEY_URL ?? '', db),
    KAFKA_TOPIC: run,
    KAFKA_GROUP: run,
    RABBITMQ_QUEUE: run,
    PORT: String(portBase),
    INGEST_ADDR: `127.0.0.1:${portBase + 1}`,
    LOG_LEVEL: 'info',
    ...options.env,
  };
  if (options.flush !== false) {
    const redis = new Redis(env.REDIS_URL as string);
    const valkey = new Valkey(env.VALKEY_URL as string);
    await Promise.all([redis.flushdb(), valkey.flushdb()]);
    redis.disconnect();
    valkey.disconnect();
  }

  const perService: Record<ServiceName, { env: Record<string, string>; port: number; health: string }> = {
    'grpc-ingest': {
      env: { PORT: String(portBase + 1), METRICS_PORT: String(portBase + 2) },
      port: portBase + 2,
      health: '/health',
    },
    'kafka-consumer': { env: { METRICS_PORT: String(portBase + 3) }, port: portBase + 3, health: '/health' },
    'rabbit-consumer': { env: { METRICS_PORT: String(portBase + 4) }, port: portBase + 4, health: '/health' },
    'edge-api': { env: {}, port: portBase, health: '/ready' },
  };
  const state = new Map<ServiceName, Supervised>();
  const logLines = new Map<ServiceName, string[]>();
  let stopped = false;

  const metricsUrl = (name: ServiceName) => `http://127.0.0.1:${perService[name].port}`;
  // A test process that ends without stopAll() (a failed setup, a crash) must not leave services behind holding
  // their ports.
  process.once('exit', () => {
    for (const { child } of state.values()) child?.kill('SIGKILL');
  });

  function launch(name: ServiceName): ChildProcess {
    const entry = state.get(name) as Supervised;
    const child = spawn(process.execPath, ['src/index.ts'], {
      cwd: join(projectRoot, name),
      env: { ...process.env, ...env, ...perService[name].env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    entry.last = child;
    entry.startedAt = Date.now();
    const lines = logLines.get(name) ?? [];
    logLines.set(name, lines);
    const keep = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('exit', (code, signal) => {
      if (entry.child === child) entry.child = undefined;
      if (!entry.wanted || stopped || !options.supervise) return;
      // As stack/src/system.ts: a service that ran a while restarts at once; one that keeps dying, slower and slower.
      const stable = Date.now() - entry.startedAt > 30_000;
      const delay = stable ? 500 : entry.backoffMs;
      entry.backoffMs = stable ? 500 : Math.min(entry.backoffMs * 2, 10_000);
      lines.push(`[supervisor] exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (entry.wanted && !stopped && entry.child === undefined) {
          entry.restarts += 1;
          launch(name);
        }
      }, delay).unref();
    });
    return child;
  }

  async function waitHealthy(name: ServiceName, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = `${metricsUrl(name)}${perService[name].health}`;
    while (Date.now() < deadline) {
      const child = state.get(name)?.last;
      if (!options.supervise && child && child.exitCode !== null) {
        throw new Error(`${name} exited with ${child.exitCode}:\n${(logLines.get(name) ?? []).join('\n')}`);
      }
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(
      `${name} not healthy within ${timeoutMs / 1000}s:\n${(logLines.get(name) ?? []).slice(-50).join('\n')}`,
    );
  }

  async function start(name: ServiceName): Promise<void> {
    const entry: Supervised = state.get(name) ?? {
      child: undefined,
      last: undefined,
      wanted: true,
      restarts: 0,
      backoffMs: 500,
      startedAt: 0,
    };
    state.set(name, entry);
    entry.wanted = true;
    entry.backoffMs = 500;
    if (!entry.child) launch(name);
    await waitHealthy(name);
  }

  function exited(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async function stop(name: ServiceName, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const entry = state.get(name);
    if (!entry) return null;
    entry.wanted = false;
    const child = entry.child;
    if (!child) return null;
    const done = exited(child);
    child.kill(signal);
    return done;
  }

  async function kill(name: ServiceName): Promise<void> {
    const child = state.get(name)?.child;
    if (!child) return;
    const done = exited(child);
    child.kill('SIGKILL');
    await done;
  }

  return {
    edgeUrl: `http://127.0.0.1:${portBase}`,
    ingestAddress: `127.0.0.1:${portBase + 1}`,
    env,
    start,
    stop,
    kill,
    waitHealthy,
    metricsUrl,
    restarts: (name) => state.get(name)?.restarts ?? 0,
    pid: (name) => state.get(name)?.child?.pid,
    async startAll() {
      for (const name of serviceNames) await start(name);
    },
    async stopAll() {
      // The edge first, so that nothing new comes in while the others drain.
      for (const name of [...serviceNames].reverse()) await stop(name, 'SIGTERM');
      stopped = true;
      await removeRunResources(env, run);
    },
    logs: (name) => logLines.get(name) ?? [],
  };
}
