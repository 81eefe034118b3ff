/**
 * The system under benchmark: the four services as real processes (as `npm start` runs them), on ports, a topic,
 * a queue, a consumer group and a Redis/Valkey database of their own, so that a benchmark never touches what
 * `npm start` or the tests run, and optionally with two edges and two ingests (replicas).
 *
 * Ports from `portBase`: edge k at portBase + 10k; ingest k gRPC at portBase + 10k + 1, metrics + 2 and, with the
 * HTTP/JSON transport, HTTP + 5; kafka-consumer metrics portBase + 3, rabbit-consumer metrics portBase + 4.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '@tandem/config';
import type { IngestTransport } from './report.ts';
import type { PipelinesConfig } from './stores.ts';

export type ServiceName = 'grpc-ingest' | 'kafka-consumer' | 'rabbit-consumer' | 'edge-api';

export interface BenchSystemOptions {
  portBase: number;
  /** The Redis and Valkey database number (flushed by the bench before use). */
  db: number;
  /** Topic, consumer group and queue name. */
  name: string;
  replicas: 1 | 2;
  /** How the edges reach the ingest. HTTP/JSON takes one ingest (the edge's HTTP gateway has one base URL). */
  ingest: IngestTransport;
  /** Service logs go to `<logDir>/<process>.log`. */
  logDir: string;
  /** Connection settings of the stack (from .stack/env). */
  stack: Pick<PipelinesConfig, 'KAFKA_BROKERS' | 'RABBITMQ_URL' | 'REDIS_URL' | 'VALKEY_URL'>;
  logLevel?: string;
  /** Run every service under V8's CPU profiler, writing `<cpuProfileDir>/<process>/*.cpuprofile` when it exits. */
  cpuProfileDir?: string;
}

export interface RunningProcess {
  /** e.g. `edge-api`, `edge-api-2`. */
  name: string;
  service: ServiceName;
  pid: number;
}

export interface BenchSystem {
  edgeUrls: string[];
  /** Metrics base URL of each consumer, by pipeline. */
  consumers: { 'kafka-redis': string; 'rabbitmq-valkey': string };
  /** What the bench's store and backlog readers need. */
  pipelines: PipelinesConfig;
  processes(): RunningProcess[];
  stop(): Promise<void>;
}

/** The NODE_OPTIONS that profile one process (quoted: NODE_OPTIONS splits on spaces); exported for its test. */
export function profiling(dir: string | undefined, processName: string): Record<string, string> {
  if (dir === undefined) return {};
  const flags = `--cpu-prof --cpu-prof-dir="${join(dir, processName)}"`;
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, flags].filter(Boolean).join(' ') };
}

export function withDatabase(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

export async function startBenchSystem(options: BenchSystemOptions): Promise<BenchSystem> {
  const { portBase, replicas } = options;
  mkdirSync(options.logDir, { recursive: true });
  const pipelines: PipelinesConfig = {
    KAFKA_BROKERS: options.stack.KAFKA_BROKERS,
    KAFKA_TOPIC: options.name,
    KAFKA_GROUP: options.name,
    RABBITMQ_URL: options.stack.RABBITMQ_URL,
    RABBITMQ_QUEUE: options.name,
    REDIS_URL: withDatabase(options.stack.REDIS_URL, options.db),
    VALKEY_URL: withDatabase(options.stack.VALKEY_URL, options.db),
  };
  const common: Record<string, string> = {
    ...pipelines,
    KAFKA_BROKERS: pipelines.KAFKA_BROKERS.join(','),
    LOG_LEVEL: options.logLevel ?? 'warn',
  };
  if (options.ingest === 'http' && replicas === 2)
    throw new Error('the HTTP/JSON transport runs with one ingest: use --replicas 1 with --ingest http');
  const indexes = replicas === 2 ? [0, 1] : [0];
  const ingestAddresses = indexes.map((k) => `127.0.0.1:${portBase + 10 * k + 1}`);
  // Two ingests behind one client: grpc-js's `ipv4:` target takes a list, and the edge's round_robin spreads
  // calls over it — what a headless Service's DNS answer gives it in Kubernetes.
  const ingestAddr =
    options.ingest === 'http'
      ? `http://127.0.0.1:${portBase + 5}`
      : replicas === 2
        ? `ipv4:${ingestAddresses.join(',')}`
        : (ingestAddresses[0] as string);
  const plan: { name: string; service: ServiceName; env: Record<string, string>; health: string }[] = [
    ...indexes.map((k) => ({
      name: k === 0 ? 'grpc-ingest' : `grpc-ingest-${k + 1}`,
      service: 'grpc-ingest' as const,
      env: {
        PORT: String(portBase + 10 * k + 1),
        METRICS_PORT: String(portBase + 10 * k + 2),
        ...(options.ingest === 'http' ? { HTTP_PORT: String(portBase + 10 * k + 5) } : {}),
      },
      health: `http://127.0.0.1:${portBase + 10 * k + 2}/health`,
    })),
    {
      name: 'kafka-consumer',
      service: 'kafka-consumer',
      env: { METRICS_PORT: String(portBase + 3) },
      health: `http://127.0.0.1:${portBase + 3}/health`,
    },
    {
      name: 'rabbit-consumer',
      service: 'rabbit-consumer',
      env: { METRICS_PORT: String(portBase + 4) },
      health: `http://127.0.0.1:${portBase + 4}/health`,
    },
    ...indexes.map((k) => ({
      name: k === 0 ? 'edge-api' : `edge-api-${k + 1}`,
      service: 'edge-api' as const,
      env: { PORT: String(portBase + 10 * k), INGEST_ADDR: ingestAddr },
      health: `http://127.0.0.1:${portBase + 10 * k}/ready`,
    })),
  ];

  const running = new Map<string, { child: ChildProcess; service: ServiceName }>();
  async function stop(): Promise<void> {
    // The edges first, so nothing new comes in while the rest drain.
    for (const name of [...running.keys()].reverse()) {
      const entry = running.get(name);
      if (!entry || entry.child.exitCode !== null || entry.child.signalCode !== null) continue;
      const exited = new Promise((resolve) => entry.child.once('exit', resolve));
      entry.child.kill('SIGTERM');
      await Promise.race([exited, sleep(30_000).then(() => entry.child.kill('SIGKILL'))]);
    }
    running.clear();
  }

  try {
    for (const step of plan) {
      const log = createWriteStream(join(options.logDir, `${step.name}.log`));
      const child = spawn(process.execPath, ['src/index.ts'], {
        cwd: join(projectRoot, step.service),
        env: { ...process.env, ...common, ...step.env, ...profiling(options.cpuProfileDir, step.name) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      running.set(step.name, { child, service: step.service });
      await waitHealthy(step.name, child, step.health, join(options.logDir, `${step.name}.log`));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    edgeUrls: indexes.map((k) => `http://127.0.0.1:${portBase + 10 * k}`),
    consumers: {
      'kafka-redis': `http://127.0.0.1:${portBase + 3}`,
      'rabbitmq-valkey': `http://127.0.0.1:${portBase + 4}`,
    },
    pipelines,
    processes: () =>
      [...running].map(([name, { child, service }]) => ({ name, service, pid: child.pid as number })),
    stop,
  };
}

async function waitHealthy(name: string, child: ChildProcess, url: string, log: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}; see ${log}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} was not healthy within 60s; see ${log}`);
}
