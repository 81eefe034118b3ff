/**
 * The benchmark's results: what one step measured, the medians over repeats, and the Markdown and SVG reports.
 * Pure functions of the results, so that a report can be re-rendered from its JSON (`node src/bench.ts --render
 * bench/results/<file>.json`).
 */
import type { LatencySnapshot } from '@tandem/consumer';
import type { MachineUsage, Usage } from './procstat.ts';
import type { BrokerLatencyResult } from './reference/broker-latency.ts';
import { chart, type Series } from './svg.ts';

export const pipelineNames = ['kafka-redis', 'rabbitmq-valkey'] as const;
export type PipelineName = (typeof pipelineNames)[number];
export const pipelineLabel: Record<PipelineName, string> = {
  'kafka-redis': 'Kafka → Redis',
  'rabbitmq-valkey': 'RabbitMQ → Valkey',
};

/** The summary of a consumer's latency histogram the bench keeps per step (as `GET /latency` serves it). */
export type Percentiles = Pick<
  LatencySnapshot,
  'count' | 'mean' | 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max'
>;

export interface PipelineStep {
  /** Accepted → counted, ms, from the consumer's HdrHistogram (every message of the step, drain included). */
  e2e: Percentiles & { histogram: string };
  /** Messages this store counted while the load ran, per second of the step. */
  countedPerSecond: number;
  /** The consumer's backlog (Kafka lag / RabbitMQ ready + unacked), sampled every second while the load ran. */
  backlogMax: number;
  backlogMean: number;
  /** Seconds from the end of the load until this store had counted every accepted message; null if it never did. */
  drainSeconds: number | null;
  /** How much the store's total grew in the step. */
  counted: number;
}

export interface StepResult {
  repeat: number;
  /** Offered: messages per second the load generator started (constant arrival rate). */
  rate: number;
  durationSeconds: number;
  achievedRate: number;
  requests: number;
  errorRate: number;
  /**
   * The requests not answered 202, by HTTP status ("0": no answer — refused, reset or timed out), and the
   * generator's distinct error texts (at most five). Absent in reports written before they were recorded.
   */
  errors?: { byStatus: Record<string, number>; texts: string[] };
  /**
   * Requests the generator did not send at their time: k6's arrivals with no free VU; for the lean generator,
   * offered requests minus those sent.
   */
  dropped: number;
  /** HTTP latency of the requests as the generator measured it, ms. */
  http: { mean: number; p50: number; p90: number; p95: number; p99: number; max: number };
  pipelines: Record<PipelineName, PipelineStep>;
  exact: { ok: boolean; accepted: number; unresolved: number; redis: number; valkey: number };
  processes: Record<string, Usage>;
  machine: MachineUsage;
  /** Why the ladder stopped after this step in this repeat, if it did. */
  saturated: string | null;
}

/** The edge → ingest transport under test: gRPC (what tandem runs) or plain HTTP/JSON (for comparison). */
export type IngestTransport = 'grpc' | 'http';
export const ingestTransportLabel: Record<IngestTransport, string> = {
  grpc: 'gRPC',
  http: 'plain HTTP/JSON',
};

/** Which endpoint a run's ladder drives: one message per `POST /input`, or `POST /input/batch`. */
export type LoadPath = 'single' | 'batch';

/** The two references a version-2 run measures beside tandem, on the same machine, in the same run. */
export interface References {
  /**
   * A bare Hono app (same @hono/node-server, same Node) that parses the JSON body and answers 202: its largest
   * rate, closed loop, `connections` connections kept busy for `seconds` by the same generator.
   */
  bareHono?: {
    rate: number;
    seconds: number;
    connections: number;
    requests: number;
    errors: number;
    /** CPU in cores of the app and of the generator over the measurement. */
    cpuCores: Record<string, number>;
  };
  /**
   * Version 4: the bare Hono app driven **open model** at the ladder's rates (the same generator and bodies), each
   * for `seconds` after a warm-up at the first: what Node serving HTTP costs per request at each rate on this
   * machine, the floor under the edge's CPU per message and under its HTTP latency. Single-message runs only.
   */
  bareHonoAtRates?: {
    seconds: number;
    warmupSeconds: number;
    /** The NODE_OPTIONS the app ran with: the services' own (system/src/runtime.ts). */
    nodeOptions: string;
    rates: BareHonoAtRate[];
  };
  /**
   * Kafka and RabbitMQ alone at the ladder's rates (single-message runs): groups sent every `groupEveryMs` to both
   * through tandem's own publishers, each group timed until each broker confirmed and until both had — the floor
   * under the edge's HTTP latency, which waits for both.
   */
  brokersAtRates?: {
    seconds: number;
    warmupSeconds: number;
    kafkaClient: string;
    rates: BrokersAtRate[];
  };
  /** RabbitMQ's own confirmed publishes to a quorum queue (amqplib, persistent, `window` per confirm wait). */
  rabbitmq?: {
    rate: number;
    seconds: number;
    window: number;
    messages: number;
    /** CPU in cores of RabbitMQ's Erlang VM and of the publishing process over the measurement. */
    cpuCores: Record<string, number>;
  };
}

/** The brokers alone at one of the ladder's rates; latencies in ms, from a group's send to its confirms. */
export type BrokersAtRate = Omit<BrokerLatencyResult, 'resourceName'>;

/** The bare Hono app at one of the ladder's rates. */
export interface BareHonoAtRate {
  /** Offered requests per second (one message each). */
  rate: number;
  seconds: number;
  /** Requests answered 202, per second. */
  achievedRate: number;
  requests: number;
  /** Requests not answered 202. */
  errors: number;
  /** As vegeta measured them, ms. */
  http: StepResult['http'];
  /** CPU in cores of the app and of the generator over the measurement. */
  cpuCores: Record<string, number>;
  /** The app's CPU divided by the requests it answered 202, µs; null if it answered none. */
  cpuMicrosPerRequest: number | null;
  machine: MachineUsage;
}

export interface BenchReport {
  tool: 'tandem bench';
  /**
   * 1: k6 drove the ladder; 2: the lean generator, with CPU per message, the knee and the references; 3: the same
   * figures, and the knee also names the busiest process at the last sustained rate (at the first failed one, a
   * collapsing step's busiest is often the generator, opening connections without bound, which hides the cause);
   * 4: the same, and a single-message run also measures the bare Hono app at the ladder's rates (the HTTP floor).
   */
  version: 1 | 2 | 3 | 4;
  mode: 'quick' | 'full' | 'custom';
  startedAt: string;
  finishedAt: string;
  git: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGb: number;
    kernel: string;
    node: string;
    /** Version 1: the k6 that drove the ladder. */
    k6?: string;
    /** Version 2: the generator that drove the ladder, with its version. */
    generator?: string;
  };
  settings: {
    rates: number[];
    durationSeconds: number;
    repeats: number;
    warmupSeconds: number;
    replicas: number;
    /** How the edge reaches the ingest; reports from before the HTTP/JSON transport have none: gRPC. */
    ingest?: IngestTransport;
    processes: { name: string; kind: 'service' | 'server' | 'load' }[];
    /** Version 2: the endpoint, and messages per request (1 for single messages). */
    path?: LoadPath;
    batchSize?: number;
    /** Version 2: `--service-env` variables every service got. */
    serviceEnv?: Record<string, string>;
  };
  steps: StepResult[];
  notes: string[];
  /** Version 2. */
  references?: References;
}

export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface RateSummary {
  rate: number;
  runs: number;
  steps: StepResult[];
  /** Median over the repeats of `pick`, with the smallest and largest. */
  of(pick: (step: StepResult) => number | null): { median: number; min: number; max: number };
}

/** Steps grouped by offered rate, in increasing order. */
export function byRate(steps: readonly StepResult[]): RateSummary[] {
  const rates = [...new Set(steps.map((s) => s.rate))].sort((a, b) => a - b);
  return rates.map((rate) => {
    const group = steps.filter((s) => s.rate === rate);
    return {
      rate,
      runs: group.length,
      steps: group,
      of(pick) {
        const values = group.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
        return {
          median: median(values),
          min: values.length ? Math.min(...values) : Number.NaN,
          max: values.length ? Math.max(...values) : Number.NaN,
        };
      },
    };
  });
}

export const num = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
export const msCell = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : '–');
const spread = (r: { median: number; min: number; max: number }, runs: number, cell = msCell) =>
  runs > 1 && Number.isFinite(r.min) ? `${cell(r.median)} (${cell(r.min)}–${cell(r.max)})` : cell(r.median);
export const table = (header: string[], rows: string[][]) =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/**
 * The rate up to which every run kept up: achieved ≥ 98 % of offered, drained, every accepted message counted
 * exactly once in both stores, and errors below 1 % (version 1) or none at all (version 2: "sustained").
 */
export function sustainedRate(report: BenchReport): number | null {
  const strict = report.version >= 2;
  let best: number | null = null;
  for (const group of byRate(report.steps)) {
    const ok = group.steps.every(
      (s) =>
        s.achievedRate >= 0.98 * s.rate &&
        (strict ? s.errorRate === 0 : s.errorRate < 0.01) &&
        s.exact.ok &&
        pipelineNames.every((p) => s.pipelines[p].drainSeconds !== null),
    );
    if (!ok) break;
    best = group.rate;
  }
  return best;
}

/** CPU microseconds a process spent per accepted message in a step; null without either. */
export function cpuMicrosPerMessage(step: StepResult, name: string): number | null {
  const cores = step.processes[name]?.cpuCores;
  if (cores === undefined || !(step.achievedRate > 0)) return null;
  return (cores * 1e6) / step.achievedRate;
}

/** tandem's own processes (the services, replicas included), summed. */
export function servicesMicrosPerMessage(report: BenchReport, step: StepResult): number | null {
  const names = report.settings.processes.filter((p) => p.kind === 'service').map((p) => p.name);
  const each = names.map((name) => cpuMicrosPerMessage(step, name));
  return each.every((v) => v === null) ? null : each.reduce<number>((sum, v) => sum + (v ?? 0), 0);
}

export interface Knee {
  rate: number;
  /** False: the first rate some repeat did not sustain; true: every rate held, this is the highest measured. */
  sustained: boolean;
  /** The busiest process there: the one nearest to a full core (or past it, for a multi-threaded server). */
  process: string;
  kind: 'service' | 'server' | 'load';
  cores: number;
  microsPerMessage: number;
  machineBusyCores: number;
  /** The busiest process at the last sustained rate, when one was and the knee is past it. */
  lastSustained?: Busiest & { rate: number };
}

/** A process and how busy it was at one rate. */
export interface Busiest {
  process: string;
  kind: 'service' | 'server' | 'load';
  cores: number;
  microsPerMessage: number;
}

/** What would take load off each of tandem's services, for the report's knee line. */
const relief: Record<string, string> = {
  'edge-api':
    'fewer, larger calls to the ingest (concurrent requests coalesced into one call), a cheaper HTTP path per request, or `POST /input/batch`',
  'grpc-ingest': 'more messages per Kafka produce and RabbitMQ publish (larger batches from the edge)',
  'kafka-consumer': 'more records per fetch and per store round trip',
  'rabbit-consumer': 'a larger prefetch and more deliveries per store round trip',
};

/** The first rate not sustained (or the highest, if all were), and which process was busiest there and at the last sustained rate. */
export function knee(report: BenchReport): Knee | null {
  const groups = byRate(report.steps);
  const sustained = sustainedRate(report);
  const group = groups.find((g) => sustained === null || g.rate > sustained) ?? groups.at(-1);
  if (group === undefined) return null;
  const busiest = busiestAt(report, group);
  if (busiest === undefined) return null;
  const held = groups.find((g) => g.rate === sustained);
  const lastSustained = held && held !== group ? busiestAt(report, held) : undefined;
  return {
    rate: group.rate,
    sustained: sustained !== null && group.rate <= sustained,
    ...busiest,
    machineBusyCores: group.of((s) => s.machine.busyCores).median,
    ...(held && lastSustained ? { lastSustained: { ...lastSustained, rate: held.rate } } : {}),
  };
}

/** The process nearest to a full core (or past it, for a multi-threaded server) at one rate. */
function busiestAt(report: BenchReport, group: RateSummary): Busiest | undefined {
  const top = report.settings.processes
    .map((p) => ({ ...p, cores: group.of((s) => s.processes[p.name]?.cpuCores ?? null).median }))
    .filter((p) => Number.isFinite(p.cores))
    .sort((a, b) => b.cores - a.cores)[0];
  return top === undefined
    ? undefined
    : {
        process: top.name,
        kind: top.kind,
        cores: top.cores,
        microsPerMessage: group.of((s) => cpuMicrosPerMessage(s, top.name)).median,
      };
}

const thousands = (v: number) => Math.round(v).toLocaleString('en-US');
const ratio = (part: number | null, whole: number | undefined) =>
  part !== null && whole !== undefined && whole > 0 ? `${((100 * part) / whole).toFixed(1)} %` : '–';

/** "**name** at 0.9 core (450 µs of CPU per message) — what it means", for the knee lines. */
function busiestLine(report: BenchReport, busiest: Busiest): string {
  const service = report.settings.processes.find((p) => p.name === busiest.process)?.kind === 'service';
  const what =
    busiest.kind === 'load'
      ? ' — the load generator itself: this run measured the generator, not tandem'
      : service
        ? ` — one of tandem's own services; what would move it: ${relief[busiest.process.replace(/-\d+$/, '')] ?? 'less work per message'}`
        : ' — a server of the stack, not tandem';
  return `**${busiest.process}** at ${num(busiest.cores, 2)} core (${num(busiest.microsPerMessage, 0)} µs of CPU per message)${what}`;
}

/** Version 4: the bare Hono app's figures at one of the ladder's rates, if it was measured there. */
export function bareHonoAt(report: BenchReport, rate: number): BareHonoAtRate | undefined {
  return report.references?.bareHonoAtRates?.rates.find((r) => r.rate === rate);
}

/**
 * Version 4, when the edge is the busiest at a sustained rate: how much of its CPU per message a bare Hono app
 * costs per request at the same rate. With two edges each serves half the rate, so the app at the whole rate is not
 * their floor: nothing is said then.
 */
function httpFloorSentence(report: BenchReport, busiest: Busiest, rate: number): string {
  const floor = bareHonoAt(report, rate)?.cpuMicrosPerRequest;
  if (
    busiest.process !== 'edge-api' ||
    report.settings.replicas !== 1 ||
    floor === null ||
    floor === undefined ||
    !Number.isFinite(busiest.microsPerMessage)
  ) {
    return '';
  }
  // Whole µs, as shown, so that the sentence adds up.
  const edge = Math.round(busiest.microsPerMessage);
  const bare = Math.round(floor);
  return edge > bare
    ? ` Of its ${edge} µs, ${bare} are what a bare Hono app (JSON parse, 202) costs per request at this rate on this machine, Node's HTTP floor; the rest, ${edge - bare} µs, is what the edge does beyond serving HTTP.`
    : ` A bare Hono app (JSON parse, 202) costs ${bare} µs per request at this rate on this machine, no less than the edge's ${edge}: within noise, the edge's cost is Node's HTTP floor.`;
}

/** Version 2's verdict lines: the references and ratios, and the knee. */
function verdictV2(report: BenchReport, sustained: number | null): string[] {
  const lines: string[] = [];
  const refs = report.references ?? {};
  const batch = report.settings.path === 'batch';
  const hono = refs.bareHono;
  const rabbit = refs.rabbitmq;
  const k = knee(report);
  // Every rate held: the ladder stopped below tandem's limit, so the share is a lower bound.
  const atLeast = k?.sustained ? 'at least ' : '';
  if (hono || rabbit) {
    const parts = [
      hono
        ? `a bare Hono app (JSON parse, 202) served ${thousands(hono.rate)} req/s; tandem's sustained single-message rate is ${batch ? 'not measured in a batch run' : `${atLeast}**${ratio(sustained, hono.rate)}** of it`}`
        : '',
      rabbit
        ? `RabbitMQ alone took ${thousands(rabbit.rate)} confirmed msg/s into a quorum queue; tandem's sustained batched rate is ${batch ? `${atLeast}**${ratio(sustained, rabbit.rate)}** of it` : 'not measured in a single-message run'}`
        : '',
    ].filter(Boolean);
    lines.push(`- References, measured in this run on this machine: ${parts.join('; ')}.`);
  }
  if (k) {
    const where = k.sustained
      ? `No rate failed; at the highest measured, ${k.rate} msg/s,`
      : `At the knee, ${k.rate} msg/s (the first rate not sustained),`;
    lines.push(
      `- Saturates first: ${where} the busiest process was ${busiestLine(report, k)}.${k.sustained ? httpFloorSentence(report, k, k.rate) : ''} The machine: ${num(k.machineBusyCores, 2)} of ${report.machine.cores} cores busy.`,
    );
    const last = k.lastSustained;
    if (report.version >= 3 && last) {
      lines.push(
        `- At the last sustained rate, ${last.rate} msg/s, the busiest process was ${busiestLine(report, last)}.${httpFloorSentence(report, last, last.rate)}`,
      );
    }
  }
  return lines;
}

/** Version 2: CPU microseconds per accepted message, per process and per rate, and the sums. */
function cpuPerMessageSection(report: BenchReport, groups: RateSummary[]): string[] {
  const rows = report.settings.processes.map(({ name, kind }) => [
    `${name}${kind === 'server' ? ' (stack)' : kind === 'load' ? ' (load)' : ''}`,
    ...groups.map((g) => num(g.of((s) => cpuMicrosPerMessage(s, name)).median, 0)),
  ]);
  const sum = (filter: (kind: string) => boolean) => (s: StepResult) => {
    const names = report.settings.processes.filter((p) => filter(p.kind)).map((p) => p.name);
    const values = names.map((name) => cpuMicrosPerMessage(s, name)).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) : null;
  };
  rows.push(
    ["**tandem's services**", ...groups.map((g) => num(g.of(sum((k) => k === 'service')).median, 0))],
    ['**services + stack**', ...groups.map((g) => num(g.of(sum((k) => k !== 'load')).median, 0))],
  );
  const floor = report.references?.bareHonoAtRates !== undefined;
  if (floor) {
    rows.push([
      '_bare Hono app, per request (reference, not tandem)_',
      ...groups.map((g) => num(bareHonoAt(report, g.rate)?.cpuMicrosPerRequest ?? Number.NaN, 0)),
    ]);
  }
  return [
    '## CPU per message (µs)',
    '',
    `Each process's CPU over the load window divided by the messages accepted in it (median over the repeats): the figure that survives a noisy machine, where absolute rates do not.${floor ? " The last row is not tandem: a bare Hono app driven at the same rates after the ladder (see References), what Node serving HTTP costs per request here — the floor under the edge's figure." : ''}`,
    '',
    table(['process', ...groups.map((g) => `${g.rate}/s`)], rows),
    '',
  ];
}

/** Version 2: the references as measured. */
function referencesSection(report: BenchReport): string[] {
  const refs = report.references;
  if (!refs || (!refs.bareHono && !refs.rabbitmq && !refs.bareHonoAtRates && !refs.brokersAtRates)) return [];
  const cores = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([name, v]) => `${name} ${num(v, 2)}`)
      .join(', ');
  const rows: string[][] = [];
  if (refs.bareHono) {
    const h = refs.bareHono;
    rows.push([
      'bare Hono app: POST, JSON parse, 202',
      `${thousands(h.rate)} req/s`,
      `closed loop, ${h.connections} connections, ${h.seconds} s, ${thousands(h.requests)} requests, ${h.errors} errors`,
      cores(h.cpuCores),
    ]);
  }
  if (refs.rabbitmq) {
    const r = refs.rabbitmq;
    rows.push([
      'RabbitMQ: confirmed publishes to a quorum queue',
      `${thousands(r.rate)} msg/s`,
      `amqplib, persistent, ${r.window} per confirm wait, ${num(r.seconds)} s, ${thousands(r.messages)} messages`,
      cores(r.cpuCores),
    ]);
  }
  return [
    '## References',
    '',
    ...(rows.length ? [table(['what', 'rate', 'how', 'CPU (cores)'], rows), ''] : []),
    ...bareHonoAtRatesSection(refs.bareHonoAtRates),
    ...brokersAtRatesSection(refs.brokersAtRates),
  ];
}

/** The brokers alone at the ladder's rates, as measured. */
function brokersAtRatesSection(brokers: References['brokersAtRates']): string[] {
  if (!brokers) return [];
  const cell = (l: BrokersAtRate['both']) => `${msCell(l.p50)} / ${msCell(l.p99)} / ${msCell(l.max)}`;
  return [
    `The brokers alone at the ladder's rates: a group of messages every few ms (as the edge gathers them) published to Kafka and RabbitMQ at once through tandem's own publishers (Kafka client ${brokers.kafkaClient}), with none of tandem's services running in between, ${brokers.seconds} s at each rate after a ${brokers.warmupSeconds} s warm-up at the first. Each group is timed from its send until each broker confirmed it, and until both had: what the ingest waits for before any 202.`,
    '',
    table(
      ['msg/s', 'groups', 'both confirmed p50 / p99 / max ms', 'Kafka', 'RabbitMQ'],
      brokers.rates.map((r) => [
        String(r.rate),
        `${thousands(r.groups)} of ${num(r.messages / r.groups, 0)} every ${num(r.groupEveryMs, 1)} ms`,
        cell(r.both),
        cell(r.kafka),
        cell(r.rabbitmq),
      ]),
    ),
    '',
  ];
}

/** Version 4 and later: the brokers' own confirm latency at one of the ladder's rates, if it was measured there. */
export function brokersAt(report: BenchReport, rate: number): BrokersAtRate | undefined {
  return report.references?.brokersAtRates?.rates.find((r) => r.rate === rate);
}

/** Version 4: the bare Hono app at the ladder's rates, as measured. */
function bareHonoAtRatesSection(floor: References['bareHonoAtRates']): string[] {
  if (!floor) return [];
  return [
    `The bare Hono app at the ladder's rates: open model, the same generator and request bodies as the ladder, ${floor.seconds} s at each rate after a ${floor.warmupSeconds} s warm-up at the first, with the services' NODE_OPTIONS (\`${floor.nodeOptions}\`). CPU per request: the app's CPU divided by the requests it answered.`,
    '',
    table(
      [
        'offered req/s',
        'achieved',
        'errors',
        'HTTP p50 ms',
        'p99',
        'max',
        'app CPU (cores)',
        'vegeta CPU (cores)',
        'app µs per request',
        'machine busy cores',
      ],
      floor.rates.map((r) => [
        String(r.rate),
        num(r.achievedRate),
        String(r.errors),
        msCell(r.http.p50),
        msCell(r.http.p99),
        msCell(r.http.max),
        num(r.cpuCores['bare-hono'] ?? Number.NaN, 2),
        num(r.cpuCores.vegeta ?? Number.NaN, 2),
        num(r.cpuMicrosPerRequest ?? Number.NaN, 0),
        num(r.machine.busyCores, 2),
      ]),
    ),
    '',
  ];
}

/** Both brokers' confirm p50 / p99 at a rate, for the latency table. */
const brokersLatency = (r: BrokersAtRate | undefined) =>
  r ? `${msCell(r.both.p50)} / ${msCell(r.both.p99)}` : '–';

/** A bare Hono app's HTTP p50 / p99 at a rate, for the latency table. */
const floorLatency = (r: BareHonoAtRate | undefined) =>
  r ? `${msCell(r.http.p50)} / ${msCell(r.http.p99)}` : '–';

export function markdown(report: BenchReport, svgName: string): string {
  const groups = byRate(report.steps);
  const repeats = report.settings.repeats;
  const m = report.machine;
  const exactAll = report.steps.every((s) => s.exact.ok);
  const sustained = sustainedRate(report);
  const otherCpu = median(report.steps.map((s) => s.machine.otherCores));
  const v2 = report.version >= 2;
  const batchSize = report.settings.batchSize ?? 1;
  const load = v2
    ? `${m.generator} open model (constant arrival rate: each request sent at its time, whatever the answers take), ${report.settings.path === 'batch' ? `POST /input/batch, ${batchSize} messages per request (rates in messages/s)` : 'POST /input, one message per request'}`
    : 'k6 open model (constant-arrival-rate), POST /input, one message per request';
  const serviceEnv = Object.entries(report.settings.serviceEnv ?? {});
  const floor = report.references?.bareHonoAtRates !== undefined;
  const brokersFloor = report.references?.brokersAtRates !== undefined;
  // Recorded since the brokers' floor came in: an earlier report renders as it did.
  const errorStatuses = report.steps.some((s) => s.errors !== undefined);
  const lines: string[] = [
    `# tandem bench — ${report.startedAt}${report.mode === 'quick' ? ' (quick)' : ''}${v2 && report.settings.path === 'batch' ? ' — batches' : ''}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${num(m.memoryGb)} GB, Linux ${m.kernel}; Node ${m.node}; ${v2 ? m.generator : m.k6}. Revision ${report.git}.`,
    `Load: ${load}, steps of ${report.settings.durationSeconds} s at ${report.settings.rates.join(', ')} msg/s, ${repeats} repeat${repeats > 1 ? 's' : ''} (cells: median, and min–max over the repeats), after a ${report.settings.warmupSeconds} s warm-up. ${report.settings.replicas} edge and ${report.settings.replicas} ingest process${report.settings.replicas > 1 ? 'es' : ''}, edge → ingest over ${ingestTransportLabel[report.settings.ingest ?? 'grpc']}; everything (${v2 ? 'the generator' : 'k6'} included) on this one machine.${serviceEnv.length ? ` Services' extra environment: ${serviceEnv.map(([k, v]) => `\`${k}=${v}\``).join(', ')}.` : ''}`,
    '',
    `![throughput and latency per pipeline](${svgName})`,
    '',
    '## Verdict',
    '',
    `- Exactness: ${exactAll ? 'every accepted message was counted exactly once in Redis and in Valkey, in every step' : '**NOT EXACT in some step — see the exactness table**'}.`,
    v2
      ? `- Sustained: ${sustained === null ? 'no step held' : `every run held up to **${sustained} msg/s**`} (a step of ${report.settings.durationSeconds} s with 0 errors, achieved ≥ 98 % of offered, every accepted message counted exactly once in both stores).`
      : `- Sustained: ${sustained === null ? 'no step kept up' : `every run kept up to ${sustained} msg/s`} (achieved ≥ 98 % of offered, < 1 % errors, both stores drained).`,
    ...(v2 ? verdictV2(report, sustained) : []),
  ];
  for (const group of groups) {
    const k = group.of((s) => s.pipelines['kafka-redis'].e2e.p99).median;
    const r = group.of((s) => s.pipelines['rabbitmq-valkey'].e2e.p99).median;
    const k50 = group.of((s) => s.pipelines['kafka-redis'].e2e.p50).median;
    const r50 = group.of((s) => s.pipelines['rabbitmq-valkey'].e2e.p50).median;
    lines.push(
      `- At ${group.rate} msg/s, end-to-end p50 / p99: Kafka → Redis ${msCell(k50)} / ${msCell(k)} ms, RabbitMQ → Valkey ${msCell(r50)} / ${msCell(r)} ms.`,
    );
  }
  lines.push(
    `- Noise: other work on the machine used a median of ${num(otherCpu, 2)} of ${m.cores} cores during the steps${otherCpu > 0.2 ? ' — **the machine was shared; treat small differences as noise**' : ''}. Repeats show the spread.`,
    ...report.notes.map((n) => `- ${n}`),
    '',
    '## Throughput and HTTP latency',
    '',
    ...(floor
      ? [
          brokersFloor
            ? "The last two columns are not tandem, and were measured after the ladder at the same rates (see References): a bare Hono app's HTTP latency, and how long Kafka and RabbitMQ alone take until both confirmed a group — the floors under the edge's latency."
            : "The last column is not tandem: a bare Hono app's HTTP latency at the same rate, measured after the ladder (see References) — the floor under the edge's.",
          '',
        ]
      : []),
    table(
      [
        'offered msg/s',
        'achieved',
        'errors',
        'dropped',
        'HTTP p50 ms',
        'p95',
        'p99',
        'max',
        'counted/s Kafka→Redis',
        'counted/s RabbitMQ→Valkey',
        ...(floor ? ['bare Hono app p50 / p99 ms (reference)'] : []),
        ...(brokersFloor ? ['brokers alone, both confirmed p50 / p99 ms (reference)'] : []),
      ],
      groups.map((g) => [
        String(g.rate),
        num(g.of((s) => s.achievedRate).median),
        `${num(100 * g.of((s) => s.errorRate).median, 2)} %`,
        num(g.of((s) => s.dropped).median, 0),
        spread(
          g.of((s) => s.http.p50),
          g.runs,
        ),
        spread(
          g.of((s) => s.http.p95),
          g.runs,
        ),
        spread(
          g.of((s) => s.http.p99),
          g.runs,
        ),
        msCell(g.of((s) => s.http.max).median),
        num(g.of((s) => s.pipelines['kafka-redis'].countedPerSecond).median),
        num(g.of((s) => s.pipelines['rabbitmq-valkey'].countedPerSecond).median),
        ...(floor ? [floorLatency(bareHonoAt(report, g.rate))] : []),
        ...(brokersFloor ? [brokersLatency(brokersAt(report, g.rate))] : []),
      ]),
    ),
    '',
    '## End-to-end latency, accepted → counted (ms)',
    '',
    "From each consumer's HdrHistogram: the ingest stamps `acceptedAt`, the consumer records when the store has counted the message (same clock; whole milliseconds, so values read up to 1 ms high).",
    '',
    table(
      [
        'offered msg/s',
        ...pipelineNames.flatMap((p) => [`${pipelineLabel[p]} p50`, 'p95', 'p99', 'p99.9', 'max']),
      ],
      groups.map((g) => [
        String(g.rate),
        ...pipelineNames.flatMap((p) => [
          spread(
            g.of((s) => s.pipelines[p].e2e.p50),
            g.runs,
          ),
          spread(
            g.of((s) => s.pipelines[p].e2e.p95),
            g.runs,
          ),
          spread(
            g.of((s) => s.pipelines[p].e2e.p99),
            g.runs,
          ),
          msCell(g.of((s) => s.pipelines[p].e2e.p999).median),
          msCell(g.of((s) => s.pipelines[p].e2e.max).median),
        ]),
      ]),
    ),
    '',
    '## Consumer lag',
    '',
    "Backlog sampled every second while the load ran (Kafka: the group's lag; RabbitMQ: ready + unacknowledged); drain: seconds after the load ended until the store had counted every accepted message.",
    '',
    table(
      [
        'offered msg/s',
        ...pipelineNames.flatMap((p) => [`${pipelineLabel[p]} backlog max`, 'mean', 'drain s']),
      ],
      groups.map((g) => [
        String(g.rate),
        ...pipelineNames.flatMap((p) => [
          num(g.of((s) => s.pipelines[p].backlogMax).median, 0),
          num(g.of((s) => s.pipelines[p].backlogMean).median, 1),
          num(g.of((s) => s.pipelines[p].drainSeconds).median, 2),
        ]),
      ]),
    ),
    '',
    '## CPU and memory per process',
    '',
    "CPU in cores (1.00 = one core busy) averaged over the load window; RSS: the largest sampled (every 0.5 s) during the step, MiB. Peak RSS over each process's life (VmHWM) is in the JSON; for the stack's servers it includes everything before the benchmark.",
    '',
    table(
      ['process', ...groups.map((g) => `${g.rate}/s CPU`), ...groups.map((g) => `${g.rate}/s RSS`)],
      report.settings.processes.map(({ name, kind }) => [
        `${name}${kind === 'server' ? ' (stack)' : kind === 'load' ? ' (load)' : ''}`,
        ...groups.map((g) => num(g.of((s) => s.processes[name]?.cpuCores ?? null).median, 2)),
        ...groups.map((g) => num(g.of((s) => s.processes[name]?.rssMaxMb ?? null).median, 0)),
      ]),
    ),
    '',
    ...(v2 ? [...cpuPerMessageSection(report, groups), ...referencesSection(report)] : []),
    '## Exactness and noise, step by step',
    '',
    table(
      [
        'repeat',
        'offered msg/s',
        'accepted',
        'Redis +',
        'Valkey +',
        'exact',
        'machine busy cores',
        'other cores',
        'load 1m',
        ...(errorStatuses ? ['errors by status'] : []),
        'stopped ladder',
      ],
      report.steps.map((s) => [
        String(s.repeat),
        String(s.rate),
        String(s.exact.accepted),
        String(s.exact.redis),
        String(s.exact.valkey),
        s.exact.ok ? '✓' : '✗',
        num(s.machine.busyCores, 2),
        num(s.machine.otherCores, 2),
        num(s.machine.loadAverage1m, 2),
        ...(errorStatuses ? [s.errors ? describeErrorStatuses(s.errors.byStatus) : ''] : []),
        s.saturated ?? '',
      ]),
    ),
    '',
  );
  return lines.join('\n');
}

/** "503 × 12, no answer × 3", largest first; "none" when every request was answered 202. */
export function describeErrorStatuses(byStatus: Record<string, number>): string {
  const parts = Object.entries(byStatus)
    .filter(([, count]) => count > 0)
    .sort(([, a], [, b]) => b - a)
    .map(([status, count]) => `${status === '0' ? 'no answer' : status} × ${count}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

const colours = { http: '#1f77b4', 'kafka-redis': '#d62728', 'rabbitmq-valkey': '#2ca02c' } as const;

export function svg(report: BenchReport): string {
  const groups = byRate(report.steps);
  const line = (
    name: string,
    colour: string,
    pick: (s: StepResult) => number | null,
    dashed = false,
  ): Series => ({
    name,
    colour,
    dashed,
    points: groups.map((g) => [g.rate, g.of(pick).median] as const),
  });
  return chart(
    [
      {
        title: 'Throughput',
        xLabel: 'offered (msg/s)',
        yLabel: 'msg/s',
        identity: true,
        series: [
          line('HTTP accepted', colours.http, (s) => s.achievedRate),
          ...pipelineNames.map((p) =>
            line(`${pipelineLabel[p]} counted`, colours[p], (s) => s.pipelines[p].countedPerSecond),
          ),
        ],
      },
      {
        title: 'Latency',
        xLabel: 'offered (msg/s)',
        yLabel: 'ms (log scale)',
        logY: true,
        series: [
          line('HTTP p99', colours.http, (s) => s.http.p99),
          ...pipelineNames.flatMap((p) => [
            line(`${pipelineLabel[p]} e2e p99`, colours[p], (s) => s.pipelines[p].e2e.p99),
            line(`${pipelineLabel[p]} e2e p50`, colours[p], (s) => s.pipelines[p].e2e.p50, true),
          ]),
        ],
      },
    ],
    `tandem bench ${report.startedAt} · ${report.machine.cores} cores · edge → ingest ${ingestTransportLabel[report.settings.ingest ?? 'grpc']} · medians of ${report.settings.repeats} repeat(s) · ${report.mode}`,
  );
}
