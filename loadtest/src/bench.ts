/**
 * `npm run bench [-- --quick] [-- --rates 50,100,200 --duration 30 --repeats 3 --replicas 2 …]`
 *
 * Brings up the local stack and a system of its own through the launcher (its own ports, topic, queue, consumer
 * group and Redis/Valkey database), warms it up, then drives open-model load (k6 constant-arrival-rate) at increasing
 * rates, each step repeated. Per step it measures: offered and achieved rate, HTTP latency (k6), end-to-end latency
 * accepted → counted for EACH pipeline (the consumers' HdrHistograms, same clock), consumer lag, CPU and RSS of
 * every process (services, Kafka, RabbitMQ, Redis, Valkey, k6) and how busy the rest of the machine was, and that
 * every accepted message was counted exactly once in both stores. Writes bench/results/<time>.json, .md and .svg
 * (a quick run writes under the git-ignored bench/results/tmp/: it is a check, not a result to keep).
 *
 * `--render <file.json>` re-renders the Markdown and SVG of an earlier run; `--cpu-prof` also leaves a V8 CPU
 * profile of every service in the run's tmp folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { projectRoot } from '@tandem/config';
import { localStack } from '@tandem/stack';
import { launchSystem, type ServiceName, type System } from '@tandem/system';
import { comparison } from './comparison.ts';
import { consumerBacklog, takeLatency } from './consumers.ts';
import { ensureK6, type K6Summary, k6Version, runK6, stat } from './k6.ts';
import { findDescendant, type Target, UsageSampler } from './procstat.ts';
import {
  type BenchReport,
  type IngestTransport,
  ingestTransportLabel,
  markdown,
  type PipelineName,
  type PipelineStep,
  pipelineLabel,
  pipelineNames,
  type StepResult,
  svg,
} from './report.ts';
import { openStores, type Stores } from './stores.ts';

process.title = 'bench';
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean' },
    rates: { type: 'string' },
    duration: { type: 'string' },
    repeats: { type: 'string' },
    warmup: { type: 'string' },
    replicas: { type: 'string', default: '1' },
    ingest: { type: 'string', default: 'grpc' },
    'port-base': { type: 'string', default: '18600' },
    db: { type: 'string', default: '14' },
    'drain-timeout': { type: 'string', default: '60' },
    'no-stack-up': { type: 'boolean' },
    'cpu-prof': { type: 'boolean' },
    out: { type: 'string' },
    render: { type: 'string' },
    compare: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(
    'usage: npm run bench [-- --quick] [--rates 50,100,200] [--duration S] [--repeats N] [--warmup S] [--replicas 1|2]\n' +
      '                     [--ingest grpc|http] [--port-base 18600] [--db 14] [--drain-timeout S] [--no-stack-up] [--out DIR] [--render FILE.json]\n' +
      '                     [--cpu-prof]   (a V8 CPU profile of every service; the run is named -cpuprof: the profiler slows it)\n' +
      '       npm run bench -- --compare A.json B.json   (two runs side by side)',
  );
  process.exit(0);
}

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const say = (message: string) => console.log(`${colour ? '\x1b[36mbench\x1b[0m' : 'bench'} ${message}`);

if (flags.compare) {
  const [first, second] = positionals;
  if (positionals.length !== 2 || !first || !second) {
    console.error(
      'bench: --compare takes two reports, e.g. --compare bench/results/A.json bench/results/B.json',
    );
    process.exit(2);
  }
  const names = [basename(first, '.json'), basename(second, '.json')] as const;
  const text = comparison(
    JSON.parse(readFileSync(first, 'utf8')) as BenchReport,
    JSON.parse(readFileSync(second, 'utf8')) as BenchReport,
    names,
  );
  const out = join(dirname(first), `${names[0]}-vs-${names[1]}.md`);
  writeFileSync(out, text);
  console.log(text);
  say(`wrote ${relative(projectRoot, out)}`);
  process.exit(0);
}
if (positionals.length > 0) {
  console.error(`bench: unexpected argument ${positionals[0]} (see --help)`);
  process.exit(2);
}

if (flags.render) {
  const report = JSON.parse(readFileSync(flags.render, 'utf8')) as BenchReport;
  writeReports(report, flags.render.replace(/\.json$/, ''));
  process.exit(0);
}

const defaults = flags.quick
  ? { rates: [50, 100, 200], duration: 10, repeats: 2, warmup: 10 }
  : { rates: [50, 100, 200, 300, 400, 600, 800, 1000, 1200, 1600], duration: 30, repeats: 3, warmup: 20 };
const rates = flags.rates ? flags.rates.split(',').map(Number) : defaults.rates;
const durationSeconds = Number(flags.duration ?? defaults.duration);
const repeats = Number(flags.repeats ?? defaults.repeats);
const warmupSeconds = Number(flags.warmup ?? defaults.warmup);
const replicas = flags.replicas === '2' ? 2 : 1;
const ingest = flags.ingest as IngestTransport;
if (!(ingest in ingestTransportLabel)) {
  console.error(`bench: --ingest must be grpc or http, not ${flags.ingest}`);
  process.exit(2);
}
if (ingest === 'http' && replicas === 2) {
  console.error('bench: --ingest http runs with one ingest; it cannot be combined with --replicas 2');
  process.exit(2);
}
const drainTimeoutMs = Number(flags['drain-timeout']) * 1000;
if (rates.some((r) => !(r > 0)) || !(durationSeconds > 0) || !(repeats >= 1) || !(warmupSeconds >= 0)) {
  console.error('bench: --rates must be positive numbers, --duration and --repeats positive, --warmup ≥ 0');
  process.exit(2);
}
const mode: BenchReport['mode'] =
  flags.quick && !flags.rates && !flags.duration && !flags.repeats
    ? 'quick'
    : !flags.quick && !flags.rates && !flags.duration && !flags.repeats
      ? 'full'
      : 'custom';

const startedAt = new Date();
const stamp = startedAt
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replace(/:/g, '-');
const resultsDir = join(projectRoot, 'bench', 'results');
const outBase = join(
  flags.out ?? (mode === 'quick' ? join(resultsDir, 'tmp') : resultsDir),
  `${stamp}${mode === 'quick' ? '-quick' : ''}${replicas === 2 ? '-replicas2' : ''}${ingest === 'http' ? '-http' : ''}${flags['cpu-prof'] ? '-cpuprof' : ''}`,
);
const workDir = join(resultsDir, 'tmp', basename(outBase));
mkdirSync(workDir, { recursive: true });
const totalSteps = rates.length * repeats;
const estimate = Math.round(20 + warmupSeconds + totalSteps * (durationSeconds + 4));
say(
  `${mode}: ${rates.join(', ')} msg/s × ${durationSeconds}s, ${repeats} repeat(s), ${replicas} replica(s), edge → ingest over ${ingestTransportLabel[ingest]}; about ${Math.ceil(estimate / 60)} min. Logs in ${relative(projectRoot, workDir)}/`,
);

// ------------------------------------------------------------------------------------------------ the stack

const stack = localStack({ progress: (message) => say(`stack: ${message}`) });
if (!flags['no-stack-up']) {
  say('stack: up (idempotent)');
  await stack.up();
}
const k6 = ensureK6();
const db = Number(flags.db);

say(`system: starting on ports ${flags['port-base']}+ (its own topic, queue and group; database ${db})`);
const system = await launchSystem({
  stack: stack.env(),
  portBase: Number(flags['port-base']),
  run: 'bench',
  db,
  replicas,
  ingest,
  logDir: workDir,
  keepLines: 100,
  env: { LOG_LEVEL: 'warn' },
  ...(flags['cpu-prof'] ? { cpuProfileDir: join(workDir, 'cpu-profiles') } : {}),
});
const stopping = async (signal: string) => {
  say(`${signal}: stopping the system`);
  await system.stopAll();
  process.exit(130);
};
process.once('SIGINT', () => void stopping('SIGINT'));
process.once('SIGTERM', () => void stopping('SIGTERM'));

const stores = await openStores({
  REDIS_URL: system.env.REDIS_URL as string,
  VALKEY_URL: system.env.VALKEY_URL as string,
});
try {
  await system.startAll();
  const report = await runBench(system, stores);
  writeReports(report, outBase);
} finally {
  await system.stopAll();
  await stores.close();
}
if (flags['cpu-prof']) {
  say(
    `CPU profiles (written as each service exited): ${relative(projectRoot, join(workDir, 'cpu-profiles'))}/<process>/*.cpuprofile — open them in Chrome DevTools (Performance) or speedscope`,
  );
}

// ------------------------------------------------------------------------------------------------ the run

async function runBench(system: System, stores: Stores): Promise<BenchReport> {
  const targets: (Target & { kind: 'service' | 'server' | 'load' })[] = [
    ...system.processes().map((p) => ({ name: p.name, pid: p.pid, kind: 'service' as const })),
    ...stackServers().map((t) => ({ ...t, kind: 'server' as const })),
  ];
  const notes: string[] = [];
  if (replicas === 2) {
    notes.push(
      'Two edges (k6 alternates between them, as a load balancer would) and two ingests (each edge spreads its gRPC calls over both with round_robin, through an `ipv4:` target listing both), all on the same cores.',
    );
  }
  if (ingest === 'http') {
    notes.push(
      'The edge reaches the ingest over plain HTTP/1.1 with JSON bodies (Node fetch, keep-alive connections; the ingest serves the same WeatherService with Hono) instead of gRPC: same validation, publishing and answers, only the transport differs.',
    );
  }

  if (warmupSeconds > 0) {
    say(`warm-up: ${rates[0]} msg/s for ${warmupSeconds}s (JIT, connections, consumer group), not reported`);
    await step(system, stores, targets, {
      rate: rates[0] as number,
      seconds: warmupSeconds,
      repeat: 0,
      index: 0,
    });
  }

  const steps: StepResult[] = [];
  let index = 0;
  for (let repeat = 1; repeat <= repeats; repeat += 1) {
    for (const rate of rates) {
      index += 1;
      const result = await step(system, stores, targets, { rate, seconds: durationSeconds, repeat, index });
      steps.push(result);
      if (result.saturated) {
        const skipped = rates.filter((r) => r > rate);
        index += skipped.length;
        if (skipped.length)
          say(`  saturated (${result.saturated}): skipping ${skipped.join(', ')} msg/s in this repeat`);
        break;
      }
    }
  }

  const finalCounts = await stores.counts();
  const differences = Object.keys({ ...finalCounts.redis.byCountry, ...finalCounts.valkey.byCountry }).filter(
    (country) => finalCounts.redis.byCountry[country] !== finalCounts.valkey.byCountry[country],
  );
  if (differences.length > 0) notes.push(`Redis and Valkey disagree on countries ${differences.join(', ')}.`);
  else
    notes.push(
      `At the end Redis and Valkey agree on every country, weather and total (${finalCounts.redis.total} messages).`,
    );

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return {
    tool: 'tandem bench',
    version: 1,
    mode,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: gitRevision(),
    machine: {
      cpu: cpu.replace(/\s+/g, ' ').trim(),
      cores: cpus().length,
      memoryGb: totalmem() / 2 ** 30,
      kernel: release(),
      node: process.version,
      k6: k6Version(k6),
    },
    settings: {
      rates,
      durationSeconds,
      repeats,
      warmupSeconds,
      replicas,
      ingest,
      processes: [
        ...targets.map(({ name, kind }) => ({ name, kind })),
        { name: 'k6', kind: 'load' as const },
      ],
    },
    steps,
    notes,
  };
}

interface StepPlan {
  rate: number;
  seconds: number;
  /** 0 for the warm-up. */
  repeat: number;
  index: number;
}

async function step(
  system: System,
  stores: Stores,
  targets: readonly Target[],
  plan: StepPlan,
): Promise<StepResult> {
  const tag = plan.repeat === 0 ? 'warm-up' : `[${plan.index}/${totalSteps}] ${plan.rate} msg/s`;
  // Every message of the previous step is counted (settled), so the histograms start empty for this one.
  await Promise.all(pipelineNames.map((p) => takeLatency(consumerUrl(system, p))));
  const before = await stores.totals();
  const sampler = new UsageSampler(targets);
  const backlog: Record<PipelineName, number[]> = { 'kafka-redis': [], 'rabbitmq-valkey': [] };
  let running = true;
  const watch = (async () => {
    let last = 0;
    const started = Date.now();
    while (running) {
      const values = await Promise.all(pipelineNames.map((p) => consumerBacklog(consumerUrl(system, p), p)));
      pipelineNames.forEach((p, i) => {
        const v = values[i];
        if (v !== null && v !== undefined) backlog[p].push(v);
      });
      const elapsed = (Date.now() - started) / 1000;
      if (elapsed - last >= 5 && running) {
        last = elapsed;
        say(
          `  ${tag}: ${elapsed.toFixed(0)}/${plan.seconds}s, backlog Kafka ${values[0] ?? '?'}, RabbitMQ ${values[1] ?? '?'}`,
        );
      }
      await sleep(1000);
    }
  })();

  const summaryFile = join(workDir, `k6-${plan.repeat}-${plan.rate}.json`);
  say(`${tag}: ${plan.seconds}s of open-model load`);
  sampler.start();
  const run = await runK6({
    k6,
    scenario: 'steady',
    env: {
      BASE_URL: system.edgeUrls.join(','),
      RUN_ID: `bench${stamp.replace(/\D/g, '').slice(2, 14)}r${plan.repeat}s${plan.rate}`,
      RATE: String(plan.rate),
      DURATION: `${plan.seconds}s`,
      // A VU is busy for one request's time: enough of them for latencies up to ~1 s before k6 drops arrivals,
      // and most allocated up front (a VU started mid-step takes long enough to make k6 drop a few arrivals).
      PRE_VUS: String(Math.max(20, Math.ceil(plan.rate / 4))),
      MAX_VUS: String(Math.max(50, plan.rate)),
      // One message per request, each id sent once: offered rate = message rate.
      RETRY_SHARE: '0',
      INVALID_SHARE: '0',
      NO_ID_SHARE: '0',
      MAX_RETRIES: '0',
    },
    summaryFile,
    args: ['--no-thresholds'],
    output: 'quiet',
    onStart: (pid) => sampler.addReapedChild({ name: 'k6', pid }),
  });
  const usage = sampler.stop();
  running = false;
  const loadEnded = Date.now();
  const atEnd = await stores.totals();
  if (!run.summary) throw new Error(`k6 wrote no summary (exit ${run.code}); see ${workDir}`);
  const summary: K6Summary = run.summary;
  const accepted = summary.tandem.idsAccepted;
  const unresolved = summary.tandem.idsUnresolved;

  // Drain: until each store holds every accepted message (and at most the unresolved ones more).
  const drained: Record<PipelineName, number | null> = { 'kafka-redis': null, 'rabbitmq-valkey': null };
  const storeOf: Record<PipelineName, 'redis' | 'valkey'> = {
    'kafka-redis': 'redis',
    'rabbitmq-valkey': 'valkey',
  };
  let totals = atEnd;
  for (;;) {
    for (const p of pipelineNames) {
      if (drained[p] === null && totals[storeOf[p]] - before[storeOf[p]] >= accepted) {
        drained[p] = (Date.now() - loadEnded) / 1000;
      }
    }
    if (pipelineNames.every((p) => drained[p] !== null) || Date.now() - loadEnded > drainTimeoutMs) break;
    await sleep(100);
    totals = await stores.totals();
  }
  // The backlog watcher ends within its 1 s tick. Unresolved messages may still land, and a double count would
  // show now: settle for a moment more.
  await watch;
  await sleep(unresolved > 0 ? 2000 : 300);
  const after = await stores.totals();
  const snapshots = await Promise.all(pipelineNames.map((p) => takeLatency(consumerUrl(system, p))));

  const delta = { redis: after.redis - before.redis, valkey: after.valkey - before.valkey };
  const exactOk = [delta.redis, delta.valkey].every((d) => d >= accepted && d <= accepted + unresolved);
  const requests = stat(summary, 'http_reqs', 'count');
  const duration = 'http_req_duration{kind:first}';
  const pipelines = Object.fromEntries(
    pipelineNames.map((p, i) => {
      const s = snapshots[i];
      if (!s) throw new Error('no latency snapshot');
      const store = storeOf[p];
      const values = backlog[p];
      const result: PipelineStep = {
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
        countedPerSecond: (atEnd[store] - before[store]) / plan.seconds,
        backlogMax: values.length ? Math.max(...values) : Number.NaN,
        backlogMean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN,
        drainSeconds: drained[p],
        counted: delta[store],
      };
      return [p, result];
    }),
  ) as Record<PipelineName, PipelineStep>;

  const achievedRate = stat(summary, 'ids_accepted', 'count') / plan.seconds;
  const errorRate = stat(summary, 'http_req_failed', 'rate');
  const saturated =
    achievedRate < 0.9 * plan.rate
      ? `accepted ${achievedRate.toFixed(0)} of ${plan.rate} msg/s`
      : errorRate > 0.05
        ? `${(errorRate * 100).toFixed(1)} % errors`
        : pipelineNames.some((p) => drained[p] === null)
          ? `not drained within ${drainTimeoutMs / 1000}s`
          : null;
  const result: StepResult = {
    repeat: plan.repeat,
    rate: plan.rate,
    durationSeconds: plan.seconds,
    achievedRate,
    requests,
    errorRate,
    dropped: stat(summary, 'dropped_iterations', 'count'),
    http: {
      mean: stat(summary, duration, 'avg'),
      p50: stat(summary, duration, 'med'),
      p90: stat(summary, duration, 'p(90)'),
      p95: stat(summary, duration, 'p(95)'),
      p99: stat(summary, duration, 'p(99)'),
      max: stat(summary, duration, 'max'),
    },
    pipelines,
    exact: { ok: exactOk, accepted, unresolved, redis: delta.redis, valkey: delta.valkey },
    processes: usage.processes,
    machine: usage.machine,
    saturated,
  };
  const e2e = pipelineNames
    .map((p) => `${pipelineLabel[p]} p50 ${pipelines[p].e2e.p50} / p99 ${pipelines[p].e2e.p99} ms`)
    .join(', ');
  say(
    `  ${tag}: accepted ${achievedRate.toFixed(1)}/s, errors ${(errorRate * 100).toFixed(2)} %, HTTP p50 ${result.http.p50.toFixed(1)} / p99 ${result.http.p99.toFixed(1)} ms; e2e ${e2e}; ` +
      `drained in ${pipelineNames.map((p) => (drained[p] === null ? 'never' : `${drained[p]?.toFixed(1)}s`)).join(' / ')}; ` +
      `${exactOk ? 'exact ✓' : `NOT EXACT: accepted ${accepted}, Redis +${delta.redis}, Valkey +${delta.valkey}`}; ` +
      `machine ${usage.machine.busyCores.toFixed(2)} of ${usage.machine.cores} cores busy (${usage.machine.otherCores.toFixed(2)} not ours)`,
  );
  return result;
}

// ------------------------------------------------------------------------------------------------ helpers

const consumerOf: Record<PipelineName, ServiceName> = {
  'kafka-redis': 'kafka-consumer',
  'rabbitmq-valkey': 'rabbit-consumer',
};
const consumerUrl = (system: System, pipeline: PipelineName) => system.metricsUrl(consumerOf[pipeline]);

/** The stack's servers as measured processes: their recorded pids, RabbitMQ's Erlang VM (beam.smp) under its. */
function stackServers(): Target[] {
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

function writeReports(report: BenchReport, base: string): void {
  mkdirSync(join(base, '..'), { recursive: true });
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.svg`, svg(report));
  writeFileSync(`${base}.md`, markdown(report, `${basename(base)}.svg`));
  for (const ext of ['md', 'json', 'svg']) say(`wrote ${relative(projectRoot, `${base}.${ext}`)}`);
}
