/**
 * The two references a run measures beside tandem, on the same machine, after its ladder (so that neither leaves
 * anything behind in a step): what a bare Hono app serves, and what RabbitMQ alone takes. tandem's sustained
 * rates are reported as shares of them — ratios that survive a noisy machine where absolute rates do not.
 *
 * - The bare Hono app (reference/bare-hono.ts) is driven **closed loop**: `connections` vegeta workers, each
 *   sending its next request as soon as its answer came, for `seconds`. That finds its largest rate in one step
 *   (an open-model ladder would take many); the rate is a ceiling, with no latency bound, which is what a share
 *   of it should be measured against.
 * - RabbitMQ: confirmed publishes to a quorum queue of the run's own (reference/rabbitmq-publish.ts).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadtestDir } from '../k6.ts';
import { type Target, UsageSampler } from '../procstat.ts';
import { rabbitPublishRate } from '../reference/rabbitmq-publish.ts';
import type { References } from '../report.ts';
import { attack } from '../vegeta.ts';
import { writeVegetaTargets } from './bodies.ts';

export interface ReferenceOptions {
  vegeta: string;
  workDir: string;
  seconds: number;
  /** Closed-loop connections against the bare Hono app. */
  connections: number;
  rabbitmqUrl: string;
  /** RabbitMQ's Erlang VM, to measure its CPU (absent: not measured). */
  rabbitmqPid?: number;
  /** Confirm window of the RabbitMQ reference. */
  window: number;
  say: (message: string) => void;
}

export async function measureReferences(options: ReferenceOptions): Promise<References> {
  const bareHono = await bareHonoRate(options);
  options.say(
    `reference: the bare Hono app served ${Math.round(bareHono.rate)} req/s (closed loop, ${options.connections} connections)`,
  );
  const rabbitmq = await rabbitmqRate(options);
  options.say(
    `reference: RabbitMQ took ${Math.round(rabbitmq.rate)} confirmed msg/s into a quorum queue (${options.window} per confirm wait)`,
  );
  return { bareHono, rabbitmq };
}

/** Starts the bare Hono app on a free port; resolves with its pid and URL once it listens. */
export async function startBareHono(): Promise<{ pid: number; url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(loadtestDir, 'src', 'reference', 'bare-hono.ts'), '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bare Hono app exited ${code} before listening`)));
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) resolve(Number(match[1]));
    });
  });
  return {
    pid: child.pid as number,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

async function bareHonoRate(options: ReferenceOptions): Promise<NonNullable<References['bareHono']>> {
  const app = await startBareHono();
  try {
    const targetsFile = writeVegetaTargets(join(options.workDir, 'reference-bare-hono.targets'), {
      path: 'single',
      batchSize: 1,
      edgeUrls: [app.url],
      count: 1000,
      seed: 1,
    });
    const sampler = new UsageSampler([{ name: 'bare-hono', pid: app.pid }]);
    sampler.start();
    const result = await attack({
      vegeta: options.vegeta,
      targetsFile,
      resultsFile: join(options.workDir, 'reference-bare-hono.bin'),
      seconds: options.seconds,
      workers: options.connections,
      onStart: (pid) => sampler.addReapedChild({ name: 'vegeta', pid }),
    });
    const usage = sampler.stop();
    const accepted = result.statusCodes['202'] ?? 0;
    return {
      rate: accepted / options.seconds,
      seconds: options.seconds,
      connections: options.connections,
      requests: result.requests,
      errors: result.requests - accepted,
      cpuCores: Object.fromEntries(Object.entries(usage.processes).map(([name, u]) => [name, u.cpuCores])),
    };
  } finally {
    await app.stop();
  }
}

async function rabbitmqRate(options: ReferenceOptions): Promise<NonNullable<References['rabbitmq']>> {
  const targets: Target[] = [
    ...(options.rabbitmqPid === undefined ? [] : [{ name: 'rabbitmq', pid: options.rabbitmqPid }]),
    { name: 'publisher (amqplib)', pid: process.pid },
  ];
  const sampler = new UsageSampler(targets);
  sampler.start();
  const result = await rabbitPublishRate({
    url: options.rabbitmqUrl,
    seconds: options.seconds,
    window: options.window,
  });
  const usage = sampler.stop();
  return {
    rate: result.rate,
    seconds: result.seconds,
    window: result.window,
    messages: result.messages,
    cpuCores: Object.fromEntries(Object.entries(usage.processes).map(([name, u]) => [name, u.cpuCores])),
  };
}
