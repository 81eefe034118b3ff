/**
 * The benchmark's results: what one step measured, the medians over repeats, and the Markdown and SVG reports.
 * Pure functions of the results, so that a report can be re-rendered from its JSON (`node src/bench.ts --render
 * bench/results/<file>.json`).
 */
import type { LatencySnapshot } from '@tandem/consumer';
import type { MachineUsage, Usage } from './procstat.ts';
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
  /** Messages this store counted while k6 ran, per second of the step. */
  countedPerSecond: number;
  /** The consumer's backlog (Kafka lag / RabbitMQ ready + unacked), sampled every second while k6 ran. */
  backlogMax: number;
  backlogMean: number;
  /** Seconds from the end of the load until this store had counted every accepted message; null if it never did. */
  drainSeconds: number | null;
  /** How much the store's total grew in the step. */
  counted: number;
}

export interface StepResult {
  repeat: number;
  /** Offered: messages per second k6 started (constant-arrival-rate). */
  rate: number;
  durationSeconds: number;
  achievedRate: number;
  requests: number;
  errorRate: number;
  /** Arrivals k6 could not start because every VU was busy (the open model's overflow). */
  dropped: number;
  /** HTTP latency of POST /input as k6 measured it, ms. */
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

export interface BenchReport {
  tool: 'tandem bench';
  version: 1;
  mode: 'quick' | 'full' | 'custom';
  startedAt: string;
  finishedAt: string;
  git: string;
  machine: { cpu: string; cores: number; memoryGb: number; kernel: string; node: string; k6: string };
  settings: {
    rates: number[];
    durationSeconds: number;
    repeats: number;
    warmupSeconds: number;
    replicas: number;
    /** How the edge reaches the ingest; reports from before the HTTP/JSON transport have none: gRPC. */
    ingest?: IngestTransport;
    processes: { name: string; kind: 'service' | 'server' | 'load' }[];
  };
  steps: StepResult[];
  notes: string[];
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

/** The rate up to which every run kept up: achieved ≥ 98 % of offered, < 1 % errors, drained, exact. */
export function sustainedRate(report: BenchReport): number | null {
  let best: number | null = null;
  for (const group of byRate(report.steps)) {
    const ok = group.steps.every(
      (s) =>
        s.achievedRate >= 0.98 * s.rate &&
        s.errorRate < 0.01 &&
        s.exact.ok &&
        pipelineNames.every((p) => s.pipelines[p].drainSeconds !== null),
    );
    if (!ok) break;
    best = group.rate;
  }
  return best;
}

export function markdown(report: BenchReport, svgName: string): string {
  const groups = byRate(report.steps);
  const repeats = report.settings.repeats;
  const m = report.machine;
  const exactAll = report.steps.every((s) => s.exact.ok);
  const sustained = sustainedRate(report);
  const otherCpu = median(report.steps.map((s) => s.machine.otherCores));
  const lines: string[] = [
    `# tandem bench — ${report.startedAt}${report.mode === 'quick' ? ' (quick)' : ''}`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${num(m.memoryGb)} GB, Linux ${m.kernel}; Node ${m.node}; ${m.k6}. Revision ${report.git}.`,
    `Load: k6 open model (constant-arrival-rate), POST /input, one message per request, steps of ${report.settings.durationSeconds} s at ${report.settings.rates.join(', ')} msg/s, ${repeats} repeat${repeats > 1 ? 's' : ''} (cells: median, and min–max over the repeats), after a ${report.settings.warmupSeconds} s warm-up. ${report.settings.replicas} edge and ${report.settings.replicas} ingest process${report.settings.replicas > 1 ? 'es' : ''}, edge → ingest over ${ingestTransportLabel[report.settings.ingest ?? 'grpc']}; everything (k6 included) on this one machine.`,
    '',
    `![throughput and latency per pipeline](${svgName})`,
    '',
    '## Verdict',
    '',
    `- Exactness: ${exactAll ? 'every accepted message was counted exactly once in Redis and in Valkey, in every step' : '**NOT EXACT in some step — see the exactness table**'}.`,
    `- Sustained: ${sustained === null ? 'no step kept up' : `every run kept up to ${sustained} msg/s`} (achieved ≥ 98 % of offered, < 1 % errors, both stores drained).`,
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
        s.saturated ?? '',
      ]),
    ),
    '',
  );
  return lines.join('\n');
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
