/**
 * The four services as real processes, on ports and names of their own so that a test run never touches what
 * `npm start` runs: its own Kafka topic and consumer group, its own RabbitMQ queue, and a Redis / Valkey
 * database number of its own (flushed before use).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadStackEnv, projectRoot } from '@tandem/config';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';

export type ServiceName = 'grpc-ingest' | 'kafka-consumer' | 'rabbit-consumer' | 'edge-api';

export interface SystemUnderTest {
  edgeUrl: string;
  ingestAddress: string;
  env: Record<string, string>;
  start(name: ServiceName): Promise<void>;
  /** SIGTERM (clean) or SIGKILL (crash); resolves when the process has exited. */
  stop(name: ServiceName, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null>;
  stopAll(): Promise<void>;
  /** Log lines each service printed, for diagnosing a failure. */
  logs(name: ServiceName): string[];
}

function withDatabase(url: string, db: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${db}`;
  return parsed.toString();
}

export async function startSystem(portBase: number): Promise<SystemUnderTest> {
  if (!loadStackEnv()) throw new Error('no .stack/env: run `npm run stack:up` first');
  const run = randomUUID().slice(0, 8);
  // Databases 1..15, chosen by port base so that concurrent suites do not share one.
  const db = 1 + (portBase % 15);
  const env: Record<string, string> = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
    RABBITMQ_URL: process.env.RABBITMQ_URL ?? '',
    REDIS_URL: withDatabase(process.env.REDIS_URL ?? '', db),
    VALKEY_URL: withDatabase(process.env.VALKEY_URL ?? '', db),
    KAFKA_TOPIC: `e2e-${run}`,
    KAFKA_GROUP: `e2e-${run}`,
    RABBITMQ_QUEUE: `e2e-${run}`,
    PORT: String(portBase),
    INGEST_ADDR: `127.0.0.1:${portBase + 1}`,
    LOG_LEVEL: 'info',
  };
  const redis = new Redis(env.REDIS_URL as string);
  const valkey = new Valkey(env.VALKEY_URL as string);
  await Promise.all([redis.flushdb(), valkey.flushdb()]);
  redis.disconnect();
  valkey.disconnect();

  const perService: Record<ServiceName, { env: Record<string, string>; health: string }> = {
    'grpc-ingest': {
      env: { PORT: String(portBase + 1), METRICS_PORT: String(portBase + 2) },
      health: `http://127.0.0.1:${portBase + 2}/health`,
    },
    'kafka-consumer': {
      env: { METRICS_PORT: String(portBase + 3) },
      health: `http://127.0.0.1:${portBase + 3}/health`,
    },
    'rabbit-consumer': {
      env: { METRICS_PORT: String(portBase + 4) },
      health: `http://127.0.0.1:${portBase + 4}/health`,
    },
    'edge-api': { env: {}, health: `http://127.0.0.1:${portBase}/ready` },
  };
  const processes = new Map<ServiceName, ChildProcess>();
  const logLines = new Map<ServiceName, string[]>();

  async function start(name: ServiceName): Promise<void> {
    const child = spawn(process.execPath, ['src/index.ts'], {
      cwd: join(projectRoot, name),
      env: { ...process.env, ...env, ...perService[name].env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    processes.set(name, child);
    const lines = logLines.get(name) ?? [];
    logLines.set(name, lines);
    const keep = (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`${name} exited with ${child.exitCode}:\n${lines.join('\n')}`);
      try {
        if ((await fetch(perService[name].health, { signal: AbortSignal.timeout(1000) })).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${name} not healthy within 60s:\n${lines.join('\n')}`);
  }

  async function stop(name: ServiceName, signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> {
    const child = processes.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill(signal);
    const code = await exited;
    processes.delete(name);
    return code;
  }

  return {
    edgeUrl: `http://127.0.0.1:${portBase}`,
    ingestAddress: `127.0.0.1:${portBase + 1}`,
    env,
    start,
    stop,
    async stopAll() {
      for (const name of ['edge-api', 'grpc-ingest', 'kafka-consumer', 'rabbit-consumer'] as const) {
        await stop(name, 'SIGTERM');
      }
    },
    logs: (name) => logLines.get(name) ?? [],
  };
}
