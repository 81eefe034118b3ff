/**
 * The one launcher of the four services as real processes: `npm start`, the e2e and fault suites and the bench all
 * start the system through `launchSystem`, each with its own options (ports, names, database, replicas).
 *
 * - Ports: the services' defaults (`npm start`), or a block from `portBase` so that several systems run side by
 *   side: edge k at base + 10k; ingest k gRPC + 1, metrics + 2, HTTP/JSON + 5; kafka-consumer metrics base + 3,
 *   rabbit-consumer metrics base + 4.
 * - Names: with `run`, a topic, consumer group and queue of the system's own (`<run>-<8 hex>`), removed with their
 *   dead-letter twins when it stops; otherwise the services' defaults.
 * - Each child runs in a process group of its own, so a terminal's Ctrl-C (SIGINT to the foreground group) reaches
 *   only the launcher, which then stops the services in order: the edges first, so that nothing new comes in, then
 *   the rest together, each draining its in-flight work.
 * - With `supervise`, a service that exits unasked (a crash, a kill -9) is started again with backoff, as a
 *   cluster would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeKafkaResources, removeRabbitQueues, silentLogger } from '@tandem/brokers';
import { kafkaConnectionFromEnv, projectRoot } from '@tandem/config';
import type { StackEnv } from '@tandem/stack';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';
import { serviceRuntime } from './runtime.ts';
import { type ServiceName, type ServiceSpec, services } from './services.ts';

export interface LaunchOptions {
  /**
   * The stack's connection settings (KAFKA_BROKERS with Kafka's SASL/SCRAM login KAFKA_SASL_MECHANISM,
   * KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD, RABBITMQ_URL, REDIS_URL, VALKEY_URL).
   */
  stack: StackEnv;
  /** Ports from this base (see above); default the services' own ports. */
  portBase?: number;
  /** The edge's port when there is no `portBase`. Default 8080. */
  edgePort?: number;
  /** A topic, consumer group and queue of the system's own, named `<run>-<8 hex>` and removed at `stopAll`. */
  run?: string;
  /** Redis / Valkey database number (default the URL's). */
  db?: number;
  /** Empty that database before starting. Default true when `db` is given. */
  flush?: boolean;
  /** Two edges and two ingests (the edges balance over both ingests). Needs `portBase`. Default 1. */
  replicas?: 1 | 2;
  /** How the edges reach the ingest. HTTP/JSON takes one ingest (the edge's HTTP gateway has one base URL). */
  ingest?: 'grpc' | 'http';
  /** Extra variables for every service; they win over everything else. */
  env?: Record<string, string>;
  /** Restart a service that exits unasked, with backoff (500 ms doubling to 10 s; at once after 30 s up). */
  supervise?: boolean;
  /** Each line a service prints, as it comes (npm start shows them); they are also kept (see `logs`). */
  onLine?: (instance: string, line: string, service: ServiceSpec) => void;
  /** Also write each instance's output to `<logDir>/<instance>.log`. */
  logDir?: string;
  /** Keep at most this many lines per instance in memory. Default all. */
  keepLines?: number;
  /** Run every service under V8's CPU profiler, writing `<cpuProfileDir>/<instance>/*.cpuprofile` on exit. */
  cpuProfileDir?: string;
  /** How long a service may take to answer its readiness check. Default 60 s. */
  readyTimeoutMs?: number;
}

/** One process of the system: `edge-api`, or `edge-api-2` with replicas. */
export interface Instance {
  name: string;
  service: ServiceSpec;
  /** Its own variables: the ports and, for an edge, INGEST_ADDR. */
  env: Record<string, string>;
  /** Where GET /health, /ready and /metrics answer. */
  adminUrl: string;
}

export interface System {
  /** The first edge's base URL. */
  edgeUrl: string;
  edgeUrls: string[];
  /** INGEST_ADDR, as the edges get it. */
  ingestAddress: string;
  /** What every service gets: the connection settings (with the database), the run's names, `options.env`. */
  env: Record<string, string>;
  instances: readonly Instance[];
  /** The instance's own HTTP base URL for /health, /ready and /metrics. */
  metricsUrl(name: string): string;
  /** Starts an instance and resolves once it answers its readiness check. */
  start(name: string): Promise<void>;
  /** Every instance in start order. */
  startAll(): Promise<void>;
  /**
   * SIGTERM (clean) or SIGKILL (crash); resolves with the exit code once the process has exited. The instance stays
   * down (the supervisor leaves it alone) until `start`.
   */
  stop(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  /** kill -9, as a crash: resolves once the process is gone. With `supervise`, the supervisor restarts it. */
  kill(name: string): Promise<void>;
  /** Resolves once the instance answers its readiness check. */
  waitHealthy(name: string, timeoutMs?: number): Promise<void>;
  /** How many times the supervisor restarted it. */
  restarts(name: string): number;
  pid(name: string): number | undefined;
  /** The instances whose process runs. */
  processes(): { name: string; service: ServiceName; pid: number }[];
  /** Output lines of the instance (stdout and stderr, every incarnation). */
  logs(name: string): string[];
  /**
   * Stops everything in order — the edges first, then the rest together, each given `graceMs` to drain before
   * SIGKILL — then removes the run's own topics, group and queues. What could not be removed is reported, not
   * thrown (a suite may end with a broker down).
   */
  stopAll(graceMs?: number): Promise<void>;
  /** SIGKILL to every process at once (a second Ctrl-C). */
  killAll(): void;
}

interface Supervised {
  instance: Instance;
  child: ChildProcess | undefined;
  /** The latest process, still set after it exited (for its exit code). */
  last: ChildProcess | undefined;
  /** False once stop() was called: an exit is then expected and not restarted. */
  wanted: boolean;
  restarts: number;
  backoffMs: number;
  startedAt: number;
  lines: string[];
  log: WriteStream | undefined;
}

const firstBackoffMs = 500;
const maxBackoffMs = 10_000;
/** A service that stayed up this long is healthy again: its next crash restarts it without delay growth. */
const stableAfterMs = 30_000;

export function withDatabase(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

/** The NODE_OPTIONS that profile one process (quoted: NODE_OPTIONS splits on spaces), after `base`'s. */
export function profiling(
  dir: string | undefined,
  processName: string,
  base = process.env.NODE_OPTIONS,
): Record<string, string> {
  if (dir === undefined) return {};
  const flags = `--cpu-prof --cpu-prof-dir="${join(dir, processName)}"`;
  return { NODE_OPTIONS: [base, flags].filter(Boolean).join(' ') };
}

/**
 * The whole environment of one service process: the launcher's own, the system's variables, the services' runtime
 * settings (runtime.ts: Node's heap options, MALLOC_ARENA_MAX, the compile cache), the instance's ports, the profiler.
 */
export function processEnv(
  system: Record<string, string>,
  instance: Pick<Instance, 'name' | 'env'>,
  cpuProfileDir?: string,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  const runtime = serviceRuntime({ ...parent, ...system });
  return {
    ...parent,
    ...system,
    ...runtime,
    ...instance.env,
    ...profiling(cpuProfileDir, instance.name, runtime.NODE_OPTIONS),
  };
}

/** The instances and their ports, in start order. */
export function plan(options: Pick<LaunchOptions, 'portBase' | 'edgePort' | 'replicas' | 'ingest'>): {
  instances: Instance[];
  ingestAddress: string;
} {
  const replicas = options.replicas ?? 1;
  const base = options.portBase;
  if (replicas === 2 && base === undefined) throw new Error('two replicas need a portBase');
  if (options.ingest === 'http' && replicas === 2) {
    throw new Error('the HTTP/JSON transport runs with one ingest: use one replica with it');
  }
  const copies = replicas === 2 ? [0, 1] : [0];
  const port = (spec: ServiceSpec, name: string, k: number): number => {
    const fallback = spec.ports.find((p) => p.name === name)?.default ?? 0;
    if (base === undefined) return spec.name === 'edge-api' ? (options.edgePort ?? fallback) : fallback;
    const offsets: Record<ServiceName, Record<string, number>> = {
      'edge-api': { http: 0 },
      'grpc-ingest': { grpc: 1, metrics: 2, httpJson: 5 },
      'kafka-consumer': { metrics: 3 },
      'rabbit-consumer': { metrics: 4 },
    };
    return base + 10 * k + (offsets[spec.name][name] ?? 0);
  };
  const ingestSpec = services.find((s) => s.name === 'grpc-ingest') as ServiceSpec;
  const httpJsonPort = base === undefined ? 50052 : port(ingestSpec, 'httpJson', 0);
  const ingestPorts = copies.map((k) => port(ingestSpec, 'grpc', k));
  // Two ingests behind one client: grpc-js's `ipv4:` target takes a list, and the edge's round_robin spreads calls
  // over it, as a headless Service's DNS answer does in Kubernetes.
  const ingestAddress =
    options.ingest === 'http'
      ? `http://127.0.0.1:${httpJsonPort}`
      : ingestPorts.length === 2
        ? `ipv4:${ingestPorts.map((p) => `127.0.0.1:${p}`).join(',')}`
        : `127.0.0.1:${ingestPorts[0]}`;

  const instances: Instance[] = [];
  for (const spec of services) {
    const scaled = spec.name === 'edge-api' || spec.name === 'grpc-ingest';
    for (const k of scaled ? copies : [0]) {
      const env: Record<string, string> = Object.fromEntries(
        spec.ports.map((p) => [p.variable, String(port(spec, p.name, k))]),
      );
      if (spec.name === 'grpc-ingest' && options.ingest === 'http') env.HTTP_PORT = String(httpJsonPort);
      if (spec.name === 'edge-api') env.INGEST_ADDR = ingestAddress;
      instances.push({
        name: k === 0 ? spec.name : `${spec.name}-${k + 1}`,
        service: spec,
        env,
        adminUrl: `http://127.0.0.1:${port(spec, spec.adminPort, k)}`,
      });
    }
  }
  return { instances, ingestAddress };
}

export async function launchSystem(options: LaunchOptions): Promise<System> {
  const { instances, ingestAddress } = plan(options);
  const own = options.run === undefined ? undefined : `${options.run}-${randomUUID().slice(0, 8)}`;
  const db = options.db;
  const env: Record<string, string> = {
    KAFKA_BROKERS: options.stack.KAFKA_BROKERS,
    // Given explicitly, as every setting is: a service must not fall back on another stack's `.stack/env`.
    KAFKA_SASL_MECHANISM: options.stack.KAFKA_SASL_MECHANISM,
    KAFKA_SASL_USERNAME: options.stack.KAFKA_SASL_USERNAME,
    KAFKA_SASL_PASSWORD: options.stack.KAFKA_SASL_PASSWORD,
    RABBITMQ_URL: options.stack.RABBITMQ_URL,
    REDIS_URL: db === undefined ? options.stack.REDIS_URL : withDatabase(options.stack.REDIS_URL, db),
    VALKEY_URL: db === undefined ? options.stack.VALKEY_URL : withDatabase(options.stack.VALKEY_URL, db),
    ...(own === undefined ? {} : { KAFKA_TOPIC: own, KAFKA_GROUP: own, RABBITMQ_QUEUE: own }),
    ...options.env,
  };
  if (db !== undefined && options.flush !== false) await flush(env);
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });

  const state = new Map<string, Supervised>(
    instances.map((instance) => [
      instance.name,
      {
        instance,
        child: undefined,
        last: undefined,
        wanted: false,
        restarts: 0,
        backoffMs: firstBackoffMs,
        startedAt: 0,
        lines: [],
        log: options.logDir ? createWriteStream(join(options.logDir, `${instance.name}.log`)) : undefined,
      },
    ]),
  );
  let stopped = false;
  const keepLines = options.keepLines ?? Number.POSITIVE_INFINITY;

  const entry = (name: string): Supervised => {
    const found = state.get(name);
    if (!found) throw new Error(`no instance ${name}; the system has ${[...state.keys()].join(', ')}`);
    return found;
  };
  const record = (supervised: Supervised, line: string) => {
    supervised.lines.push(line);
    if (supervised.lines.length > keepLines) supervised.lines.shift();
    supervised.log?.write(`${line}\n`);
    options.onLine?.(supervised.instance.name, line, supervised.instance.service);
  };

  // A test or tool that ends without stopAll() (a failed setup, a crash) must not leave services behind holding
  // their ports: they are in groups of their own, so nothing else would stop them.
  const killLeftovers = () => {
    for (const { child } of state.values()) child?.kill('SIGKILL');
  };
  process.once('exit', killLeftovers);

  function launch(supervised: Supervised): void {
    const { instance } = supervised;
    const child = spawn(process.execPath, ['src/index.ts'], {
      cwd: join(projectRoot, instance.service.name),
      env: processEnv(env, instance, options.cpuProfileDir),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    supervised.child = child;
    supervised.last = child;
    supervised.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => record(supervised, line));
    }
    child.on('exit', (code, signal) => {
      if (supervised.child === child) supervised.child = undefined;
      if (!supervised.wanted || stopped || !options.supervise) return;
      const stable = Date.now() - supervised.startedAt > stableAfterMs;
      const delay = stable ? firstBackoffMs : supervised.backoffMs;
      supervised.backoffMs = stable ? firstBackoffMs : Math.min(supervised.backoffMs * 2, maxBackoffMs);
      record(supervised, `[launcher] exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (supervised.wanted && !stopped && supervised.child === undefined) {
          supervised.restarts += 1;
          launch(supervised);
        }
      }, delay).unref();
    });
  }

  async function waitHealthy(name: string, timeoutMs = options.readyTimeoutMs ?? 60_000): Promise<void> {
    const supervised = entry(name);
    const url = `${supervised.instance.adminUrl}${supervised.instance.service.readyPath}`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const child = supervised.last;
      if (!options.supervise && child && child.exitCode !== null) {
        throw new Error(`${name} exited with ${child.exitCode}:\n${supervised.lines.slice(-50).join('\n')}`);
      }
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(
      `${name} not ready within ${timeoutMs / 1000}s (${url}):\n${supervised.lines.slice(-50).join('\n')}`,
    );
  }

  async function start(name: string): Promise<void> {
    const supervised = entry(name);
    supervised.wanted = true;
    supervised.backoffMs = firstBackoffMs;
    if (!supervised.child) launch(supervised);
    await waitHealthy(name);
  }

  function exited(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  async function stop(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const supervised = entry(name);
    supervised.wanted = false;
    const child = supervised.child;
    if (!child) return null;
    const done = exited(child);
    child.kill(signal);
    return done;
  }

  /** SIGTERM, and SIGKILL for whatever has not exited after `graceMs`. */
  async function drain(names: readonly string[], graceMs: number): Promise<void> {
    await Promise.all(
      names.map(async (name) => {
        const child = entry(name).child;
        const done = stop(name, 'SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), graceMs);
        await done;
        clearTimeout(timer);
      }),
    );
  }

  return {
    edgeUrl: (instances.find((i) => i.service.name === 'edge-api') as Instance).adminUrl,
    edgeUrls: instances.filter((i) => i.service.name === 'edge-api').map((i) => i.adminUrl),
    ingestAddress,
    env,
    instances,
    metricsUrl: (name) => entry(name).instance.adminUrl,
    start,
    async startAll() {
      for (const instance of instances) await start(instance.name);
    },
    stop,
    async kill(name) {
      const child = entry(name).child;
      if (!child) return;
      const done = exited(child);
      child.kill('SIGKILL');
      await done;
    },
    waitHealthy,
    restarts: (name) => entry(name).restarts,
    pid: (name) => entry(name).child?.pid,
    processes: () =>
      [...state.values()].flatMap(({ instance, child }) =>
        child?.pid === undefined
          ? []
          : [{ name: instance.name, service: instance.service.name, pid: child.pid }],
      ),
    logs: (name) => entry(name).lines,
    async stopAll(graceMs = 30_000) {
      const edges = instances.filter((i) => i.service.name === 'edge-api').map((i) => i.name);
      await drain(edges, graceMs);
      await drain(
        instances.filter((i) => !edges.includes(i.name)).map((i) => i.name),
        graceMs,
      );
      stopped = true;
      process.removeListener('exit', killLeftovers);
      await Promise.all(
        [...state.values()].map(
          ({ log }) => new Promise((resolve) => (log ? log.end(resolve) : resolve(undefined))),
        ),
      );
      if (own !== undefined) await removeRunResources(env, own);
    },
    killAll() {
      stopped = true;
      killLeftovers();
    },
  };
}

async function flush(env: Record<string, string>): Promise<void> {
  const redis = new Redis(env.REDIS_URL as string);
  const valkey = new Valkey(env.VALKEY_URL as string);
  try {
    await Promise.all([redis.flushdb(), valkey.flushdb()]);
  } finally {
    redis.disconnect();
    valkey.disconnect();
  }
}

/**
 * Removes the run's own topic, group and queue (named `own`), with the dead-letter ones the consumers name
 * `<topic>.dlq` / `<queue>.dlq`; a name that `options.env` pointed elsewhere is not the run's, and is left alone.
 */
/** Clean-up is best effort: a broker that a fault test left down must not hold a suite's end for long. */
const cleanupRetry = { timeoutMs: 5_000 };

async function removeRunResources(env: Record<string, string>, own: string): Promise<void> {
  const ours = (name: string | undefined) => (name === own ? [name, `${name}.dlq`] : []);
  const [kafka, rabbitmq] = await Promise.allSettled([
    (async () =>
      removeKafkaResources({
        // As the services log in (an unusable setting rejects here, reported below).
        ...kafkaConnectionFromEnv(env),
        topics: ours(env.KAFKA_TOPIC),
        groupIds: env.KAFKA_GROUP === own ? [own] : [],
        logger: silentLogger,
        retry: cleanupRetry,
      }))(),
    removeRabbitQueues({
      url: env.RABBITMQ_URL ?? '',
      queues: ours(env.RABBITMQ_QUEUE),
      retry: cleanupRetry,
    }),
  ]);
  const problems = [
    kafka?.status === 'rejected' ? `kafka: ${(kafka.reason as Error).message}` : '',
    kafka?.status === 'fulfilled' && kafka.value.left.length > 0
      ? `kafka kept ${kafka.value.left.join(', ')}`
      : '',
    rabbitmq?.status === 'rejected' ? `rabbitmq: ${(rabbitmq.reason as Error).message}` : '',
  ].filter(Boolean);
  if (problems.length > 0) console.warn(`[launcher] left behind after ${own}: ${problems.join('; ')}`);
}
