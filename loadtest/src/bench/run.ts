/**
 * A bench run, given its plan and a started system: the warm-up, then the ladder (every rate, `repeats` times,
 * a repeat stopping at the first rate that saturates), whether the two stores agree, then the references (a bare
 * Hono app at the rates the ladder measured and at its ceiling, RabbitMQ alone), as one report.
 */
import { spawnSync } from 'node:child_process';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { kafkaConnection, parseConfig, projectRoot } from '@tandem/config';
import { configSchema as ingestConfigSchema } from '@tandem/grpc-ingest/config';
import type { LocalStack } from '@tandem/stack';
import { type System, serviceRuntime } from '@tandem/system';
import { findDescendant, type Target } from '../procstat.ts';
import type { BenchReport, References, StepResult } from '../report.ts';
import type { Stores } from '../stores.ts';
import { vegetaVersion } from '../vegeta.ts';
import { writeVegetaTargets } from './bodies.ts';
import { type BenchPlan, floorWarmupSeconds, totalSteps } from './plan.ts';
import { measureReferences, type ReferenceOptions } from './references.ts';
import { say } from './say.ts';
import { type StepContext, type StepPlan, step } from './step.ts';

/** What the run measures, started by the caller: the system, its stores, the local stack, and the generator. */
export interface BenchSystem {
  system: System;
  stores: Stores;
  stack: Pick<LocalStack, 'pids'>;
  vegeta: string;
}

type MeasuredProcess = Target & { kind: 'service' | 'server' };

export async function runBench(
  plan: BenchPlan,
  { system, stores, stack, vegeta }: BenchSystem,
): Promise<BenchReport> {
  const targets: MeasuredProcess[] = [
    ...system.processes().map((p) => ({ name: p.name, pid: p.pid, kind: 'service' as const })),
    ...stackServers(stack).map((t) => ({ ...t, kind: 'server' as const })),
  ];
  const notes = settingNotes(plan);
  // Distinct requests to cycle through: enough that the messages vary like real traffic (a batch is 100 already).
  const bodies = { count: plan.path === 'batch' ? 200 : 2000, seed: plan.startedAt.getTime() % 2 ** 31 };
  const targetsFile = writeVegetaTargets(join(plan.workDir, 'ladder.targets'), {
    ...bodies,
    path: plan.path,
    batchSize: plan.batchSize,
    edgeUrls: system.edgeUrls,
  });
  const context: StepContext = {
    system,
    stores,
    targets,
    vegeta,
    targetsFile,
    batchSize: plan.batchSize,
    workDir: plan.workDir,
    totalSteps: totalSteps(plan),
    drainTimeoutMs: plan.drainTimeoutMs,
  };

  const firstRate = plan.rates[0] as number;
  if (plan.warmupSeconds > 0) {
    say(
      `warm-up: ${firstRate} msg/s for ${plan.warmupSeconds}s (JIT, connections, consumer group), not reported`,
    );
    await step(context, { rate: firstRate, seconds: plan.warmupSeconds, repeat: 0, index: 0 });
  }
  const steps = await climb(plan, (stepPlan) => step(context, stepPlan));
  notes.push(await agreementNote(stores));
  let references: References | undefined;
  if (plan.referenceSeconds > 0) {
    // The floor only at the rates the ladder measured: above its knee there is no edge figure to set it beside.
    const measuredRates = [...new Set(steps.map((s) => s.rate))].sort((a, b) => a - b);
    const atRates =
      plan.floorSeconds > 0
        ? {
            rates: measuredRates,
            seconds: plan.floorSeconds,
            warmupSeconds: floorWarmupSeconds(plan),
            bodies,
          }
        : undefined;
    say(
      `references: ${atRates ? `a bare Hono app at ${measuredRates.join(', ')} req/s, ${plan.floorSeconds}s each; then ` : ''}a bare Hono app closed loop, then RabbitMQ alone, ${plan.referenceSeconds}s each${atRates ? `; then the brokers alone at ${measuredRates.join(', ')} msg/s, ${plan.floorSeconds}s each` : ''}`,
    );
    references = await measureReferences({
      vegeta,
      workDir: plan.workDir,
      seconds: plan.referenceSeconds,
      connections: plan.referenceConnections,
      rabbitmqUrl: system.env.RABBITMQ_URL as string,
      rabbitmqPid: targets.find((t) => t.name === 'rabbitmq')?.pid,
      window: 100,
      // What the services run with (the launcher's serviceRuntime, --service-env included), so that the app and the
      // edge differ only in what the handler does.
      appEnv: serviceRuntime({ ...process.env, ...plan.serviceEnv }),
      ...(atRates ? { atRates, kafka: ingestKafka(system.env) } : {}),
      say,
    });
  }
  return report(plan, { steps, notes, targets, vegeta, references });
}

/**
 * The ladder: every rate in order, `repeats` times. A saturated step ends its repeat; the rates it skips still
 * count in the steps' numbering, so `[index/total]` stays where the full ladder would be.
 */
export async function climb(
  plan: Pick<BenchPlan, 'rates' | 'repeats' | 'durationSeconds'>,
  run: (stepPlan: StepPlan) => Promise<StepResult>,
): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  let index = 0;
  for (let repeat = 1; repeat <= plan.repeats; repeat += 1) {
    for (const rate of plan.rates) {
      index += 1;
      const result = await run({ rate, seconds: plan.durationSeconds, repeat, index });
      steps.push(result);
      if (result.saturated) {
        const skipped = plan.rates.filter((r) => r > rate);
        index += skipped.length;
        if (skipped.length)
          say(`  saturated (${result.saturated}): skipping ${skipped.join(', ')} msg/s in this repeat`);
        break;
      }
    }
  }
  return steps;
}

/**
 * Kafka as the system's ingest reaches it: the brokers, login, client library and partition count it runs with (its
 * environment is this process's under the system's, as the launcher gives it).
 */
function ingestKafka(env: Record<string, string>): NonNullable<ReferenceOptions['kafka']> {
  const config = parseConfig(ingestConfigSchema, { ...process.env, ...env });
  return { ...kafkaConnection(config), client: config.KAFKA_CLIENT, partitions: config.KAFKA_PARTITIONS };
}

/** What the report says about settings that change what is measured. */
export function settingNotes(plan: Pick<BenchPlan, 'replicas' | 'ingest'>): string[] {
  const notes: string[] = [];
  if (plan.replicas === 2) {
    notes.push(
      'Two edges (the generator alternates between them, as a load balancer would) and two ingests (each edge spreads its gRPC calls over both with round_robin, through an `ipv4:` target listing both), all on the same cores.',
    );
  }
  if (plan.ingest === 'http') {
    notes.push(
      'The edge reaches the ingest over plain HTTP/1.1 with JSON bodies (Node fetch, keep-alive connections; the ingest serves the same WeatherService with Hono) instead of gRPC: same validation, publishing and answers, only the transport differs.',
    );
  }
  return notes;
}

/** At the end: do Redis and Valkey hold the same count for every country? */
async function agreementNote(stores: Stores): Promise<string> {
  const finalCounts = await stores.counts();
  const differences = Object.keys({ ...finalCounts.redis.byCountry, ...finalCounts.valkey.byCountry }).filter(
    (country) => finalCounts.redis.byCountry[country] !== finalCounts.valkey.byCountry[country],
  );
  return differences.length > 0
    ? `Redis and Valkey disagree on countries ${differences.join(', ')}.`
    : `At the end Redis and Valkey agree on every country, weather and total (${finalCounts.redis.total} messages).`;
}

function report(
  plan: BenchPlan,
  run: {
    steps: StepResult[];
    notes: string[];
    targets: readonly MeasuredProcess[];
    vegeta: string;
    references: References | undefined;
  },
): BenchReport {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return {
    tool: 'tandem bench',
    version: 4,
    mode: plan.mode,
    startedAt: plan.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: gitRevision(),
    machine: {
      cpu: cpu.replace(/\s+/g, ' ').trim(),
      cores: cpus().length,
      memoryGb: totalmem() / 2 ** 30,
      kernel: release(),
      node: process.version,
      generator: vegetaVersion(run.vegeta),
    },
    settings: {
      rates: plan.rates,
      durationSeconds: plan.durationSeconds,
      repeats: plan.repeats,
      warmupSeconds: plan.warmupSeconds,
      replicas: plan.replicas,
      ingest: plan.ingest,
      processes: [
        ...run.targets.map(({ name, kind }) => ({ name, kind })),
        { name: 'vegeta', kind: 'load' as const },
      ],
      path: plan.path,
      batchSize: plan.batchSize,
      serviceEnv: plan.serviceEnv,
    },
    steps: run.steps,
    notes: run.notes,
    ...(run.references ? { references: run.references } : {}),
  };
}

/** The stack's servers as measured processes: their recorded pids, RabbitMQ's Erlang VM (beam.smp) under its. */
function stackServers(stack: Pick<LocalStack, 'pids'>): Target[] {
  const pids = stack.pids();
  return (['kafka', 'rabbitmq', 'redis', 'valkey'] as const).flatMap((name) => {
    const pid = pids[name];
    if (pid === undefined) {
      say(`note: the stack's ${name} is not running; it is not measured`);
      return [];
    }
    return [{ name, pid: name === 'rabbitmq' ? (findDescendant(pid, 'beam.smp') ?? pid) : pid }];
  });
}

function gitRevision(): string {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
    cwd: projectRoot,
    encoding: 'utf8',
  });
  return `${head.stdout.trim() || 'unknown'}${dirty.stdout.trim() ? ' (with uncommitted changes)' : ''}`;
}
