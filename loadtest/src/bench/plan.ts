/**
 * The bench's command line: its flags, parsed and validated into what to do — show the usage, put two reports side
 * by side, re-render one, or run a BenchPlan. Pure (it reads no file and starts nothing), so every rule is tested.
 */
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '@tandem/config';
import { type BenchReport, type IngestTransport, ingestTransportLabel, type LoadPath } from '../report.ts';

export const usage =
  'usage: npm run bench [-- --quick] [--batch [--batch-size 100]] [--rates 50,100,200] [--duration S] [--repeats N] [--warmup S]\n' +
  '                     [--replicas 1|2] [--ingest grpc|http] [--service-env KEY=VALUE ...] [--reference-seconds S] [--reference-connections N]\n' +
  '                     [--floor-seconds S]\n' +
  '                     [--port-base 18600] [--db 14] [--drain-timeout S] [--no-stack-up] [--out DIR] [--render FILE.json]\n' +
  '                     [--cpu-prof]   (a V8 CPU profile of every service; the run is named -cpuprof: the profiler slows it)\n' +
  '       npm run bench -- --compare A.json B.json   (two runs side by side)';

const options = {
  quick: { type: 'boolean' },
  batch: { type: 'boolean' },
  'batch-size': { type: 'string', default: '100' },
  'service-env': { type: 'string', multiple: true },
  'reference-seconds': { type: 'string' },
  'reference-connections': { type: 'string', default: '50' },
  'floor-seconds': { type: 'string' },
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
} as const;

function parseFlags(args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], allowPositionals: true, options });
  } catch (error) {
    // parseArgs' own refusals (an unknown option, a missing value) read as any other usage error.
    throw new UsageError(`${(error as Error).message} (see --help)`);
  }
}
type Flags = ReturnType<typeof parseFlags>['values'];

/**
 * The ladders, in messages per second: `--quick` is a check that everything works (a minute or two), the full one
 * a result to keep — 60 s steps, the length a rate must hold to count as sustained. `--batch` climbs higher: a
 * request carries 100 messages.
 */
export const ladders = {
  quick: { rates: [50, 100, 200], durationSeconds: 10, repeats: 2, warmupSeconds: 10, referenceSeconds: 3 },
  full: {
    rates: [100, 200, 400, 800, 1200, 1600, 2000, 2500, 3000, 4000, 5000, 6000],
    durationSeconds: 60,
    repeats: 3,
    warmupSeconds: 20,
    referenceSeconds: 10,
  },
  quickBatch: {
    rates: [500, 1000, 2000],
    durationSeconds: 10,
    repeats: 2,
    warmupSeconds: 10,
    referenceSeconds: 5,
  },
  fullBatch: {
    rates: [1000, 2000, 4000, 6000, 8000, 10000, 12000, 14000, 16000, 20000],
    durationSeconds: 60,
    repeats: 3,
    warmupSeconds: 20,
    referenceSeconds: 10,
  },
} as const;

/** Everything a run needs to know, decided before anything starts. */
export interface BenchPlan {
  /** quick or full: the ladder as it is; custom: --rates, --duration or --repeats changed it. */
  mode: BenchReport['mode'];
  rates: number[];
  durationSeconds: number;
  repeats: number;
  warmupSeconds: number;
  /** Edges and ingests. */
  replicas: 1 | 2;
  /** How the edge reaches the ingest. */
  ingest: IngestTransport;
  /** The endpoint the ladder drives, and messages per request (1 for POST /input). */
  path: LoadPath;
  batchSize: number;
  /** `--service-env`: extra variables for every service (e.g. another Kafka client, the edge's coalescing). */
  serviceEnv: Record<string, string>;
  /** Seconds of each reference measurement (the bare Hono app, RabbitMQ alone); 0: none. */
  referenceSeconds: number;
  /** Closed-loop connections against the bare Hono app. */
  referenceConnections: number;
  /**
   * Seconds of the bare Hono app (open model: the HTTP floor under the edge) and of the brokers alone (their confirm
   * latency, the floor under tandem's) at each of the ladder's rates, after the ladder; 0: neither measured. Not in a
   * batch run: there a request carries 100 messages, and the question (how much of the edge's cost and latency per
   * message is Node's HTTP and the brokers') is the single-message one.
   */
  floorSeconds: number;
  /** The system's first port (the launcher counts up from it). */
  portBase: number;
  /** The Redis/Valkey database of the run. */
  db: number;
  /** How long a step waits for both stores to count every accepted message before it calls the rate saturated. */
  drainTimeoutMs: number;
  /** Whether to bring the local stack up first (`--no-stack-up`: it is already). */
  stackUp: boolean;
  /** `--cpu-prof`: a V8 CPU profile of every service. */
  cpuProfile: boolean;
  startedAt: Date;
  /** startedAt as it appears in file names: 2026-11-21T16-06-30Z. */
  stamp: string;
  /** The reports are `<outBase>.json`, `.md` and `.svg`. */
  outBase: string;
  /** The run's logs, the generator's request files and CPU profiles: always under the git-ignored bench/results/tmp/. */
  workDir: string;
}

export type BenchCommand =
  | { kind: 'help' }
  | { kind: 'compare'; first: string; second: string }
  | { kind: 'render'; file: string }
  | { kind: 'run'; plan: BenchPlan };

/** A command line the bench refuses: the message is shown after `bench: `, and the exit code is 2. */
export class UsageError extends Error {}

export const resultsDir = join(projectRoot, 'bench', 'results');

/** What the command line asks for; throws a UsageError when it is wrong. */
export function parseBenchArgs(args: readonly string[], now = new Date()): BenchCommand {
  const { values: flags, positionals } = parseFlags(args);
  if (flags.help) return { kind: 'help' };
  if (flags.compare) {
    const [first, second] = positionals;
    if (positionals.length !== 2 || !first || !second) {
      throw new UsageError(
        '--compare takes two reports, e.g. --compare bench/results/A.json bench/results/B.json',
      );
    }
    return { kind: 'compare', first, second };
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]} (see --help)`);
  if (flags.render) return { kind: 'render', file: flags.render };
  return { kind: 'run', plan: benchPlan(flags, now) };
}

/** `KEY=VALUE` pairs of `--service-env`; a key is an environment variable's name. */
export function parseServiceEnv(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--service-env takes KEY=VALUE, not ${JSON.stringify(pair)}`);
    env[match[1] as string] = match[2] as string;
  }
  return env;
}

function benchPlan(flags: Flags, startedAt: Date): BenchPlan {
  const path: LoadPath = flags.batch ? 'batch' : 'single';
  const ladder =
    path === 'batch'
      ? flags.quick
        ? ladders.quickBatch
        : ladders.fullBatch
      : flags.quick
        ? ladders.quick
        : ladders.full;
  const rates = flags.rates ? flags.rates.split(',').map(Number) : [...ladder.rates];
  const durationSeconds = Number(flags.duration ?? ladder.durationSeconds);
  const repeats = Number(flags.repeats ?? ladder.repeats);
  const warmupSeconds = Number(flags.warmup ?? ladder.warmupSeconds);
  const batchSize = path === 'batch' ? Number(flags['batch-size']) : 1;
  const referenceSeconds = Number(flags['reference-seconds'] ?? ladder.referenceSeconds);
  const referenceConnections = Number(flags['reference-connections']);
  if (!(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= 1000)) {
    throw new UsageError('--batch-size must be a whole number from 1 to 1000 (the edge takes up to 1000)');
  }
  if (!(referenceSeconds >= 0) || !(Number.isInteger(referenceConnections) && referenceConnections >= 1)) {
    throw new UsageError('--reference-seconds must be ≥ 0 (0: no references), --reference-connections ≥ 1');
  }
  const floorSeconds = httpFloorSeconds(flags, { path, referenceSeconds, durationSeconds });
  const serviceEnv = parseServiceEnv(flags['service-env'] ?? []);
  const replicas = flags.replicas === '2' ? 2 : 1;
  const ingest = flags.ingest as IngestTransport;
  if (!Object.hasOwn(ingestTransportLabel, ingest)) {
    throw new UsageError(`--ingest must be grpc or http, not ${flags.ingest}`);
  }
  if (ingest === 'http' && replicas === 2) {
    throw new UsageError('--ingest http runs with one ingest; it cannot be combined with --replicas 2');
  }
  if (rates.some((r) => !(r > 0)) || !(durationSeconds > 0) || !(repeats >= 1) || !(warmupSeconds >= 0)) {
    throw new UsageError('--rates must be positive numbers, --duration and --repeats positive, --warmup ≥ 0');
  }
  const ladderChanged = Boolean(flags.rates || flags.duration || flags.repeats);
  const mode: BenchPlan['mode'] = ladderChanged ? 'custom' : flags.quick ? 'quick' : 'full';
  const cpuProfile = flags['cpu-prof'] === true;
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  // A quick run is a check, and a profiled run's figures include the profiler's own cost: neither is a result to
  // keep, so they go under the git-ignored tmp/ unless --out says otherwise.
  const name = `${stamp}${mode === 'quick' ? '-quick' : ''}${path === 'batch' ? '-batch' : ''}${replicas === 2 ? '-replicas2' : ''}${ingest === 'http' ? '-http' : ''}${cpuProfile ? '-cpuprof' : ''}`;
  const outBase = join(
    flags.out ?? (mode === 'quick' || cpuProfile ? join(resultsDir, 'tmp') : resultsDir),
    name,
  );
  return {
    mode,
    rates,
    durationSeconds,
    repeats,
    warmupSeconds,
    replicas,
    ingest,
    path,
    batchSize,
    serviceEnv,
    referenceSeconds,
    referenceConnections,
    floorSeconds,
    portBase: Number(flags['port-base']),
    db: Number(flags.db),
    drainTimeoutMs: Number(flags['drain-timeout']) * 1000,
    stackUp: !flags['no-stack-up'],
    cpuProfile,
    startedAt,
    stamp,
    outBase,
    workDir: join(resultsDir, 'tmp', basename(outBase)),
  };
}

/**
 * `--floor-seconds`, or by default a step's duration up to 15 s: long enough for a steady CPU figure, short enough
 * that a full ladder's twelve rates add three minutes. No references (`--reference-seconds 0`) or a batch run: none.
 */
function httpFloorSeconds(
  flags: Flags,
  run: { path: LoadPath; referenceSeconds: number; durationSeconds: number },
): number {
  const given = flags['floor-seconds'];
  if (given !== undefined && (run.path === 'batch' || run.referenceSeconds === 0)) {
    throw new UsageError(
      '--floor-seconds measures a reference of single-message runs: not with --batch or --reference-seconds 0',
    );
  }
  if (run.path === 'batch' || run.referenceSeconds === 0) return 0;
  const seconds = Number(given ?? Math.min(run.durationSeconds, 15));
  if (!(seconds >= 0))
    throw new UsageError(
      '--floor-seconds must be ≥ 0 (0: neither the bare Hono app nor the brokers at the rates)',
    );
  return seconds;
}

/** The steps a run measures (the warm-up aside), if no rate saturates. */
export const totalSteps = (plan: BenchPlan) => plan.rates.length * plan.repeats;

/** The run in one line, with a rough estimate of how long it takes. */
export function describePlan(plan: BenchPlan): string {
  const estimate = Math.round(
    20 +
      plan.warmupSeconds +
      totalSteps(plan) * (plan.durationSeconds + 4) +
      2 * plan.referenceSeconds +
      // The bare Hono app, then the brokers alone, each warmed up and at every rate.
      (plan.floorSeconds > 0
        ? 2 * (floorWarmupSeconds(plan) + plan.rates.length * (plan.floorSeconds + 1))
        : 0),
  );
  const load = plan.path === 'batch' ? `POST /input/batch (${plan.batchSize} per request)` : 'POST /input';
  const env = Object.entries(plan.serviceEnv).map(([k, v]) => `${k}=${v}`);
  return `${plan.mode}: ${load} at ${plan.rates.join(', ')} msg/s × ${plan.durationSeconds}s, ${plan.repeats} repeat(s), ${plan.replicas} replica(s), edge → ingest over ${ingestTransportLabel[plan.ingest]}${env.length ? `, services with ${env.join(' ')}` : ''}${plan.referenceSeconds > 0 ? `; then the references, ${plan.referenceSeconds}s each${plan.floorSeconds > 0 ? `, and the bare Hono app and the brokers alone at each rate for ${plan.floorSeconds}s` : ''}` : ''}; about ${Math.ceil(estimate / 60)} min.`;
}

/**
 * The bare Hono app's warm-up at the first rate before the floor is measured: the ladder's, at most the floor's and
 * 5 s — a handler that only parses JSON has its JIT done long before, and no connection pool or consumer group to wait for.
 */
export const floorWarmupSeconds = (plan: Pick<BenchPlan, 'warmupSeconds' | 'floorSeconds'>) =>
  Math.min(plan.warmupSeconds, plan.floorSeconds, 5);
