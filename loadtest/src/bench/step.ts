/**
 * One step of the ladder: one rate held for some seconds, and what it did to each pipeline. In order:
 *
 * 1. measureBefore: both consumers' latency histograms restarted, both stores' totals read;
 * 2. runLoad: vegeta at the rate (open model), with collectUsage sampling every process's CPU and memory
 *    meanwhile (vegeta's own too), and watchBacklog reading each consumer's backlog every second;
 * 3. waitForDrain: until each store has counted every accepted message (or the drain timeout);
 * 4. measureAfter: a moment's settling (after lost answers, until the system holds nothing), the stores' totals and
 *    the histograms again;
 * 5. checkExact, pipelineStep, saturation and stepResult: the numbers, by pure functions of what was measured.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LatencySnapshot } from '@tandem/consumer';
import type { ServiceName, System } from '@tandem/system';
import { consumerBacklog, serviceGauge, takeLatency } from '../consumers.ts';
import { type Target, UsageSampler } from '../procstat.ts';
import {
  describeErrorStatuses,
  type PipelineName,
  type PipelineStep,
  pipelineLabel,
  pipelineNames,
  type StepResult,
} from '../report.ts';
import type { StoreName, Stores } from '../stores.ts';
import { type AttackResult, attack, unresolvedRequests } from '../vegeta.ts';
import { say } from './say.ts';

/** What every step of a run shares. */
export interface StepContext {
  system: System;
  stores: Stores;
  /** The processes measured (the generator is added to each step as it starts). */
  targets: readonly Target[];
  vegeta: string;
  /** The requests vegeta cycles through (bench/bodies.ts). */
  targetsFile: string;
  /** Messages per request: 1 for POST /input. */
  batchSize: number;
  /** Where vegeta writes each step's results (removed once read). */
  workDir: string;
  totalSteps: number;
  drainTimeoutMs: number;
}

export interface StepPlan {
  rate: number;
  seconds: number;
  /** 0 for the warm-up. */
  repeat: number;
  index: number;
}

type Totals = Record<StoreName, number>;
type Usage = ReturnType<UsageSampler['stop']>;

const consumerOf: Record<PipelineName, ServiceName> = {
  'kafka-redis': 'kafka-consumer',
  'rabbitmq-valkey': 'rabbit-consumer',
};
export const storeOf: Record<PipelineName, StoreName> = {
  'kafka-redis': 'redis',
  'rabbitmq-valkey': 'valkey',
};
const consumerUrl = (system: System, pipeline: PipelineName) => system.metricsUrl(consumerOf[pipeline]);

export async function step(context: StepContext, plan: StepPlan): Promise<StepResult> {
  const { system, stores } = context;
  const tag = plan.repeat === 0 ? 'warm-up' : `[${plan.index}/${context.totalSteps}] ${plan.rate} msg/s`;
  const before = await measureBefore(context);
  const backlog = watchBacklog(
    (pipeline) => consumerBacklog(consumerUrl(system, pipeline), pipeline),
    (elapsed, values) =>
      say(
        `  ${tag}: ${elapsed.toFixed(0)}/${plan.seconds}s, backlog Kafka ${values['kafka-redis'] ?? '?'}, RabbitMQ ${values['rabbitmq-valkey'] ?? '?'}`,
      ),
  );
  say(`${tag}: ${plan.seconds}s of open-model load`);
  let load: { result: AttackResult; usage: Usage };
  try {
    load = await collectUsage(context.targets, (onStart) => runLoad(context, plan, onStart));
  } finally {
    backlog.stop();
  }
  const loadEnded = Date.now();
  const atEnd = await stores.totals();
  const summary = load.result;
  // Every 202 is `batchSize` new messages (the edge gave them their ids); an answer that never came, or a 5xx,
  // may or may not have published its messages: each is then counted once or not at all.
  const accepted = (summary.statusCodes['202'] ?? 0) * context.batchSize;
  const unresolved = unresolvedRequests(summary) * context.batchSize;

  const drained = await waitForDrain({
    totals: () => stores.totals(),
    before,
    atEnd,
    accepted,
    loadEnded,
    timeoutMs: context.drainTimeoutMs,
  });
  const backlogSamples = await backlog.samples;
  const after = await measureAfter(context, unresolved);

  const exact = checkExact(before, after.totals, accepted, unresolved);
  const pipelines = Object.fromEntries(
    pipelineNames.map((p) => {
      const store = storeOf[p];
      return [
        p,
        pipelineStep({
          latency: after.latency[p],
          backlog: backlogSamples[p],
          countedPerSecond: (atEnd[store] - before[store]) / plan.seconds,
          drainSeconds: drained[p],
          counted: exact[store],
        }),
      ];
    }),
  ) as Record<PipelineName, PipelineStep>;
  const result = stepResult({
    plan,
    summary,
    batchSize: context.batchSize,
    pipelines,
    exact,
    usage: load.usage,
    drainTimeoutMs: context.drainTimeoutMs,
  });
  say(describeStep(tag, result));
  return result;
}

// ------------------------------------------------------------------------------------------------ measuring

/** Restarts both consumers' histograms (every message of the previous step is counted) and reads the totals. */
async function measureBefore({ system, stores }: StepContext): Promise<Totals> {
  await Promise.all(pipelineNames.map((p) => takeLatency(consumerUrl(system, p))));
  return stores.totals();
}

/**
 * Runs `load` while sampling every target's CPU and memory; `onStart` adds the load's own process (the
 * generator, named `loadName`) as soon as it runs.
 */
export async function collectUsage<T>(
  targets: readonly Target[],
  load: (onStart: (pid: number) => void) => Promise<T>,
  loadName = 'vegeta',
): Promise<{ result: T; usage: Usage }> {
  const sampler = new UsageSampler(targets);
  sampler.start();
  const result = await load((pid) => sampler.addReapedChild({ name: loadName, pid }));
  return { result, usage: sampler.stop() };
}

/** vegeta at the step's rate (messages/s, so rate / batchSize requests/s), each request a new message or batch. */
function runLoad(
  context: StepContext,
  plan: StepPlan,
  onStart: (pid: number) => void,
): Promise<AttackResult> {
  return attack({
    vegeta: context.vegeta,
    targetsFile: context.targetsFile,
    resultsFile: join(context.workDir, `vegeta-${plan.repeat}-${plan.rate}.bin`),
    rate: plan.rate / context.batchSize,
    seconds: plan.seconds,
    onStart,
  });
}

export interface BacklogWatch {
  /** Stops after the current tick; `samples` then resolves within one tick. */
  stop(): void;
  /** Every value read, per pipeline (a value that could not be read is left out). */
  samples: Promise<Record<PipelineName, number[]>>;
}

/**
 * Reads each pipeline's backlog every `everyMs` until stopped; `progress` hears about it every 5 s or so (elapsed
 * seconds, the latest values).
 */
export function watchBacklog(
  read: (pipeline: PipelineName) => Promise<number | null>,
  progress: (elapsedSeconds: number, values: Record<PipelineName, number | null>) => void,
  everyMs = 1000,
): BacklogWatch {
  const samples: Record<PipelineName, number[]> = { 'kafka-redis': [], 'rabbitmq-valkey': [] };
  let running = true;
  const watching = (async () => {
    let last = 0;
    const started = Date.now();
    while (running) {
      const values = await Promise.all(pipelineNames.map((p) => read(p)));
      pipelineNames.forEach((p, i) => {
        const v = values[i];
        if (v !== null && v !== undefined) samples[p].push(v);
      });
      const elapsed = (Date.now() - started) / 1000;
      if (elapsed - last >= 5 && running) {
        last = elapsed;
        progress(elapsed, { 'kafka-redis': values[0] ?? null, 'rabbitmq-valkey': values[1] ?? null });
      }
      await sleep(everyMs);
    }
    return samples;
  })();
  return {
    stop: () => {
      running = false;
    },
    samples: watching,
  };
}

/**
 * Polls the stores every `pollMs` until each one's total has grown by at least `accepted` since `before` (the
 * first look is `atEnd`, read as the load ended) or `timeoutMs` has passed since `loadEnded`. Per pipeline: the
 * seconds from `loadEnded` until its store had them all, or null if it never did.
 */
export async function waitForDrain(options: {
  totals: () => Promise<Totals>;
  before: Totals;
  atEnd: Totals;
  accepted: number;
  loadEnded: number;
  timeoutMs: number;
  pollMs?: number;
}): Promise<Record<PipelineName, number | null>> {
  const { before, accepted, loadEnded, timeoutMs, pollMs = 100 } = options;
  const drained: Record<PipelineName, number | null> = { 'kafka-redis': null, 'rabbitmq-valkey': null };
  let totals = options.atEnd;
  for (;;) {
    for (const p of pipelineNames) {
      if (drained[p] === null && totals[storeOf[p]] - before[storeOf[p]] >= accepted) {
        drained[p] = (Date.now() - loadEnded) / 1000;
      }
    }
    if (pipelineNames.every((p) => drained[p] !== null) || Date.now() - loadEnded > timeoutMs) break;
    await sleep(pollMs);
    totals = await options.totals();
  }
  return drained;
}

/**
 * After the drain: messages whose answer the generator never saw (unresolved: no answer, or a 5xx while the ingest
 * may have published them) can still land seconds later, when the ingest was slow, and would otherwise be counted in
 * the next step's window (a warm-up whose first calls waited on a new Kafka client once put 442 of its messages into
 * the first step; an overloaded warm-up once put 7 there more than 2 s after the totals had last moved). So with any
 * unresolved it waits until the system holds none of them (see heldMessages), at most the drain timeout; without, a
 * moment, for a double count to show. Then the totals and both histograms (which restarts them).
 */
async function measureAfter(
  { system, stores, drainTimeoutMs }: StepContext,
  unresolved: number,
): Promise<{ totals: Totals; latency: Record<PipelineName, LatencySnapshot> }> {
  if (unresolved > 0) {
    const held = await untilNothingHeld(() => heldMessages(system), { timeoutMs: drainTimeoutMs });
    if (held > 0)
      say(`  the system still held ${held} messages after ${drainTimeoutMs / 1000}s; counting anyway`);
  } else {
    await sleep(300);
  }
  const totals = await stores.totals();
  const snapshots = await Promise.all(pipelineNames.map((p) => takeLatency(consumerUrl(system, p))));
  const latency = Object.fromEntries(
    pipelineNames.map((p, i) => {
      const snapshot = snapshots[i];
      if (!snapshot) throw new Error('no latency snapshot');
      return [p, snapshot];
    }),
  ) as Record<PipelineName, LatencySnapshot>;
  return { totals, latency };
}

/**
 * Messages somewhere between the edges and the stores, by what the services report: the edges' calls to the
 * ingest still out (`edge_ingest_submits_in_flight`, calls rather than messages: what matters is whether it is 0),
 * the messages the ingests are publishing (`ingest_messages_in_flight`: a call the edge gave up on goes on there)
 * and both consumers' backlogs. Once the generator has stopped and this is 0, nothing more can be counted.
 * Infinity when a service does not answer.
 */
async function heldMessages(system: System): Promise<number> {
  const gauges: Promise<number | null>[] = system.instances.flatMap((instance) => {
    const name = gaugeOf[instance.service.name];
    return name === undefined ? [] : [serviceGauge(instance.adminUrl, name)];
  });
  for (const p of pipelineNames) gauges.push(consumerBacklog(consumerUrl(system, p), p));
  const values = await Promise.all(gauges);
  return values.reduce<number>((sum, value) => sum + (value ?? Number.POSITIVE_INFINITY), 0);
}

const gaugeOf: Partial<Record<ServiceName, string>> = {
  'edge-api': 'edge_ingest_submits_in_flight',
  'grpc-ingest': 'ingest_messages_in_flight',
};

/**
 * Reads `held` every `pollMs` until it is 0 twice in a row (an edge's gathering becomes a call within its linger,
 * between two reads), or `timeoutMs` has passed; resolves with the last reading.
 */
export async function untilNothingHeld(
  held: () => Promise<number>,
  options: { timeoutMs: number; pollMs?: number },
): Promise<number> {
  const { timeoutMs, pollMs = 250 } = options;
  const started = Date.now();
  let previous = Number.POSITIVE_INFINITY;
  for (;;) {
    const now = await held();
    if ((now === 0 && previous === 0) || Date.now() - started >= timeoutMs) return now;
    previous = now;
    await sleep(pollMs);
  }
}

// ------------------------------------------------------------------------------------------------ the numbers

/**
 * Exactly once: each store's total grew by every accepted message, and by at most the unresolved ones more (a
 * message whose answer was lost may or may not have been accepted).
 */
export function checkExact(
  before: Totals,
  after: Totals,
  accepted: number,
  unresolved: number,
): StepResult['exact'] {
  const redis = after.redis - before.redis;
  const valkey = after.valkey - before.valkey;
  const ok = [redis, valkey].every((d) => d >= accepted && d <= accepted + unresolved);
  return { ok, accepted, unresolved, redis, valkey };
}

/** One pipeline's part of a step. */
export function pipelineStep(measured: {
  latency: LatencySnapshot;
  /** The backlog values read while the load ran. */
  backlog: readonly number[];
  countedPerSecond: number;
  drainSeconds: number | null;
  counted: number;
}): PipelineStep {
  const { latency: s, backlog } = measured;
  return {
    e2e: {
      count: s.count,
      mean: s.mean,
      p50: s.p50,
      p90: s.p90,
      p95: s.p95,
      p99: s.p99,
      p999: s.p999,
      max: s.max,
      histogram: s.histogram,
    },
    countedPerSecond: measured.countedPerSecond,
    backlogMax: backlog.length ? Math.max(...backlog) : Number.NaN,
    backlogMean: backlog.length ? backlog.reduce((a, b) => a + b, 0) / backlog.length : Number.NaN,
    drainSeconds: measured.drainSeconds,
    counted: measured.counted,
  };
}

/** Why the ladder stops climbing after this step, or null: too little accepted, too many errors, not drained. */
export function saturation(
  rate: number,
  achievedRate: number,
  errorRate: number,
  drained: readonly (number | null)[],
  drainTimeoutMs: number,
): string | null {
  if (achievedRate < 0.9 * rate) return `accepted ${achievedRate.toFixed(0)} of ${rate} msg/s`;
  if (errorRate > 0.05) return `${(errorRate * 100).toFixed(1)} % errors`;
  if (drained.some((d) => d === null)) return `not drained within ${drainTimeoutMs / 1000}s`;
  return null;
}

/** The step's result, as the report keeps it. */
export function stepResult(parts: {
  plan: StepPlan;
  summary: AttackResult;
  /** Messages per request. */
  batchSize: number;
  pipelines: Record<PipelineName, PipelineStep>;
  exact: StepResult['exact'];
  usage: Usage;
  drainTimeoutMs: number;
}): StepResult {
  const { plan, summary, pipelines, batchSize } = parts;
  const answered202 = summary.statusCodes['202'] ?? 0;
  const achievedRate = (answered202 * batchSize) / plan.seconds;
  const errorRate = summary.requests > 0 ? (summary.requests - answered202) / summary.requests : 0;
  const offeredRequests = Math.round((plan.rate / batchSize) * plan.seconds);
  return {
    repeat: plan.repeat,
    rate: plan.rate,
    durationSeconds: plan.seconds,
    achievedRate,
    requests: summary.requests,
    errorRate,
    errors: {
      byStatus: Object.fromEntries(
        Object.entries(summary.statusCodes).filter(([status]) => status !== '202'),
      ),
      texts: summary.errors.slice(0, 5),
    },
    dropped: Math.max(0, offeredRequests - summary.requests),
    http: { ...summary.latencyMs },
    pipelines,
    exact: parts.exact,
    processes: parts.usage.processes,
    machine: parts.usage.machine,
    saturated: saturation(
      plan.rate,
      achievedRate,
      errorRate,
      pipelineNames.map((p) => pipelines[p].drainSeconds),
      parts.drainTimeoutMs,
    ),
  };
}

/** The step's progress line. */
export function describeStep(tag: string, result: StepResult): string {
  const { pipelines, exact, machine } = result;
  const e2e = pipelineNames
    .map((p) => `${pipelineLabel[p]} p50 ${pipelines[p].e2e.p50} / p99 ${pipelines[p].e2e.p99} ms`)
    .join(', ');
  const drained = pipelineNames.map((p) => pipelines[p].drainSeconds);
  return (
    `  ${tag}: accepted ${result.achievedRate.toFixed(1)}/s, errors ${(result.errorRate * 100).toFixed(2)} %${result.errorRate > 0 && result.errors ? ` (${describeErrorStatuses(result.errors.byStatus)})` : ''}${result.dropped > 0 ? `, ${result.dropped} requests not sent in time (the generator fell behind)` : ''}, HTTP p50 ${result.http.p50.toFixed(1)} / p99 ${result.http.p99.toFixed(1)} ms; e2e ${e2e}; ` +
    `drained in ${drained.map((d) => (d === null ? 'never' : `${d.toFixed(1)}s`)).join(' / ')}; ` +
    `${exact.ok ? 'exact ✓' : `NOT EXACT: accepted ${exact.accepted}, Redis +${exact.redis}, Valkey +${exact.valkey}`}; ` +
    `machine ${machine.busyCores.toFixed(2)} of ${machine.cores} cores busy (${machine.otherCores.toFixed(2)} not ours)`
  );
}
