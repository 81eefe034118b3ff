/**
 * The references a run measures beside tandem, on the same machine, after its ladder (so that none leaves
 * anything behind in a step): what a bare Hono app serves, and what RabbitMQ alone takes. tandem's sustained
 * rates are reported as shares of them — ratios that survive a noisy machine where absolute rates do not. And, in
 * a single-message run, what the bare Hono app costs at each of the ladder's rates: the HTTP floor under the edge.
 *
 * - The HTTP floor (measureBareHonoAtRates): the bare Hono app driven **open model** at the ladder's rates, with the
 *   ladder's generator and bodies, after a warm-up at the first. A ceiling says nothing about what a request costs
 *   at a given rate: on a small VM Node's per-request cost (wake-ups, system calls) falls as the rate climbs and
 *   requests share wake-ups, so the edge's CPU per message must be read against the app's at the same rate.
 * - The bare Hono app (reference/bare-hono.ts) is driven **closed loop**: `connections` vegeta workers, each
 *   sending its next request as soon as its answer came, for `seconds`. That finds its largest rate in one step
 *   (an open-model ladder would take many); the rate is a ceiling, with no latency bound, which is what a share
 *   of it should be measured against.
 * - RabbitMQ: confirmed publishes to a quorum queue of the run's own (reference/rabbitmq-publish.ts).
 * - The brokers' latency floor (measureBrokersAtRates), in a single-message run: Kafka and RabbitMQ confirming at
 *   each of the ladder's rates through tandem's own publishers, nothing of tandem in between
 *   (reference/broker-latency.ts): the floor under the edge's HTTP latency that no work on tandem can lower.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadtestDir } from '../k6.ts';
import { type Target, UsageSampler } from '../procstat.ts';
import { type BrokerLatencyOptions, brokerLatencyAtRate } from '../reference/broker-latency.ts';
import { rabbitPublishRate } from '../reference/rabbitmq-publish.ts';
import type { BareHonoAtRate, References } from '../report.ts';
import { type AttackResult, attack } from '../vegeta.ts';
import { type BodiesOptions, writeVegetaTargets } from './bodies.ts';
import { collectUsage } from './step.ts';

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
  /** The environment tandem's services run with (their NODE_OPTIONS above all): the bare Hono app gets it too. */
  appEnv: Record<string, string>;
  /** The HTTP floor at the ladder's rates; absent: not measured. */
  atRates?: AtRatesOptions;
  /** Kafka as the ingest reaches it: with atRates, the brokers' latency floor is measured at the same rates. */
  kafka?: BrokerLatencyOptions['kafka'];
  say: (message: string) => void;
}

export interface AtRatesOptions {
  /** Requests per second (single messages: the ladder's rates). */
  rates: readonly number[];
  seconds: number;
  /** At the first rate, before anything is measured (JIT, connections), as the ladder's warm-up. */
  warmupSeconds: number;
  /** The ladder's bodies (same count and seed: the same requests). */
  bodies: Pick<BodiesOptions, 'count' | 'seed'>;
}

export async function measureReferences(options: ReferenceOptions): Promise<References> {
  const bareHonoAtRates = options.atRates && (await measureBareHonoAtRates(options, options.atRates));
  const bareHono = await bareHonoRate(options);
  options.say(
    `reference: the bare Hono app served ${Math.round(bareHono.rate)} req/s (closed loop, ${options.connections} connections)`,
  );
  const rabbitmq = await rabbitmqRate(options);
  options.say(
    `reference: RabbitMQ took ${Math.round(rabbitmq.rate)} confirmed msg/s into a quorum queue (${options.window} per confirm wait)`,
  );
  const brokersAtRates =
    options.atRates &&
    options.kafka &&
    (await measureBrokersAtRates(options, options.kafka, options.atRates));
  return {
    bareHono,
    rabbitmq,
    ...(bareHonoAtRates ? { bareHonoAtRates } : {}),
    ...(brokersAtRates ? { brokersAtRates } : {}),
  };
}

/** Kafka and RabbitMQ confirming at each rate in turn, after a warm-up at the first (connections, leaders, JIT). */
async function measureBrokersAtRates(
  options: Pick<ReferenceOptions, 'rabbitmqUrl' | 'say'>,
  kafka: BrokerLatencyOptions['kafka'],
  atRates: Pick<AtRatesOptions, 'rates' | 'seconds' | 'warmupSeconds'>,
): Promise<NonNullable<References['brokersAtRates']>> {
  const at = (rate: number, seconds: number) =>
    brokerLatencyAtRate({ kafka, rabbitmqUrl: options.rabbitmqUrl, rate, seconds });
  const first = atRates.rates[0];
  if (first !== undefined && atRates.warmupSeconds > 0) await at(first, atRates.warmupSeconds);
  const rates = [];
  for (const rate of atRates.rates) {
    const measured = await at(rate, atRates.seconds);
    const ms = (l: { p50: number; p99: number }) => `p50 ${l.p50.toFixed(1)} / p99 ${l.p99.toFixed(1)} ms`;
    options.say(
      `reference: the brokers alone at ${rate} msg/s (groups every ${measured.groupEveryMs.toFixed(1)} ms): both confirmed ${ms(measured.both)}; Kafka ${ms(measured.kafka)}, RabbitMQ ${ms(measured.rabbitmq)}`,
    );
    const { resourceName: _, ...figures } = measured;
    rates.push(figures);
  }
  return { seconds: atRates.seconds, warmupSeconds: atRates.warmupSeconds, kafkaClient: kafka.client, rates };
}

/** Starts the bare Hono app on a free port, `env` over this process's; resolves with its pid and URL once it listens. */
export async function startBareHono(
  env: Record<string, string> = {},
): Promise<{ pid: number; url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(loadtestDir, 'src', 'reference', 'bare-hono.ts'), '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
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

/** The bare Hono app at each rate in turn, one process warmed up first (as the edge is, by the ladder's warm-up). */
async function measureBareHonoAtRates(
  options: Pick<ReferenceOptions, 'vegeta' | 'workDir' | 'appEnv' | 'say'>,
  atRates: AtRatesOptions,
): Promise<NonNullable<References['bareHonoAtRates']>> {
  const app = await startBareHono(options.appEnv);
  try {
    const targetsFile = writeVegetaTargets(join(options.workDir, 'reference-bare-hono-at-rates.targets'), {
      ...atRates.bodies,
      path: 'single',
      batchSize: 1,
      edgeUrls: [app.url],
    });
    const at = async (rate: number, seconds: number) => {
      const { result, usage } = await collectUsage([{ name: 'bare-hono', pid: app.pid }], (onStart) =>
        attack({
          vegeta: options.vegeta,
          targetsFile,
          resultsFile: join(options.workDir, `reference-bare-hono-${rate}.bin`),
          rate,
          seconds,
          onStart,
        }),
      );
      return bareHonoAtRate(rate, seconds, result, usage);
    };
    const first = atRates.rates[0];
    if (first !== undefined && atRates.warmupSeconds > 0) await at(first, atRates.warmupSeconds);
    const rates: BareHonoAtRate[] = [];
    for (const rate of atRates.rates) {
      const measured = await at(rate, atRates.seconds);
      options.say(
        `reference: the bare Hono app at ${rate} req/s: ${measured.cpuMicrosPerRequest?.toFixed(0) ?? '–'} µs of CPU per request, HTTP p50 ${measured.http.p50.toFixed(1)} / p99 ${measured.http.p99.toFixed(1)} ms, ${measured.errors} errors`,
      );
      rates.push(measured);
    }
    return {
      seconds: atRates.seconds,
      warmupSeconds: atRates.warmupSeconds,
      nodeOptions: options.appEnv.NODE_OPTIONS ?? '',
      rates,
    };
  } finally {
    await app.stop();
  }
}

/** One rate's figures, from what vegeta and the sampler measured. */
function bareHonoAtRate(
  rate: number,
  seconds: number,
  summary: AttackResult,
  usage: ReturnType<UsageSampler['stop']>,
): BareHonoAtRate {
  const answered = summary.statusCodes['202'] ?? 0;
  const achievedRate = answered / seconds;
  const appCores = usage.processes['bare-hono']?.cpuCores;
  return {
    rate,
    seconds,
    achievedRate,
    requests: summary.requests,
    errors: summary.requests - answered,
    http: { ...summary.latencyMs },
    cpuCores: coresOf(usage),
    cpuMicrosPerRequest: appCores !== undefined && achievedRate > 0 ? (appCores * 1e6) / achievedRate : null,
    machine: usage.machine,
  };
}

async function bareHonoRate(options: ReferenceOptions): Promise<NonNullable<References['bareHono']>> {
  const app = await startBareHono(options.appEnv);
  try {
    const targetsFile = writeVegetaTargets(join(options.workDir, 'reference-bare-hono.targets'), {
      path: 'single',
      batchSize: 1,
      edgeUrls: [app.url],
      count: 1000,
      seed: 1,
    });
    const { result, usage } = await collectUsage([{ name: 'bare-hono', pid: app.pid }], (onStart) =>
      attack({
        vegeta: options.vegeta,
        targetsFile,
        resultsFile: join(options.workDir, 'reference-bare-hono.bin'),
        seconds: options.seconds,
        workers: options.connections,
        onStart,
      }),
    );
    const accepted = result.statusCodes['202'] ?? 0;
    return {
      rate: accepted / options.seconds,
      seconds: options.seconds,
      connections: options.connections,
      requests: result.requests,
      errors: result.requests - accepted,
      cpuCores: coresOf(usage),
    };
  } finally {
    await app.stop();
  }
}

/** Each sampled process's CPU in cores, by name. */
function coresOf(usage: ReturnType<UsageSampler['stop']>): Record<string, number> {
  return Object.fromEntries(Object.entries(usage.processes).map(([name, u]) => [name, u.cpuCores]));
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
    cpuCores: coresOf(usage),
  };
}
