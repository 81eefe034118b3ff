/**
 * Two bench runs side by side (`npm run bench -- --compare A.json B.json`): the same rates, each cell A → B and
 * their ratio, for what differs between two set-ups — HTTP latency, end-to-end latency per pipeline, and CPU of the
 * services. It answers questions such as gRPC vs plain HTTP/JSON between edge and ingest, or one replica vs two.
 * Only rates both runs measured are compared; cells are the medians over each run's repeats.
 */
import {
  type BenchReport,
  byRate,
  ingestTransportLabel,
  median,
  msCell,
  num,
  type PipelineName,
  pipelineLabel,
  pipelineNames,
  type RateSummary,
  type StepResult,
  table,
} from './report.ts';

/** What a run was: its transport and replicas, batches, and the services' extra environment. */
export function runLabel(report: BenchReport): string {
  const transport = ingestTransportLabel[report.settings.ingest ?? 'grpc'];
  const replicas =
    report.settings.replicas > 1
      ? `, ${report.settings.replicas} edges + ${report.settings.replicas} ingests`
      : '';
  const batches = report.settings.path === 'batch' ? `, batches of ${report.settings.batchSize}` : '';
  const env = Object.entries(report.settings.serviceEnv ?? {})
    .map(([key, value]) => `, ${key}=${value}`)
    .join('');
  return `${transport}${replicas}${batches}${env}`;
}

/** CPU microseconds per accepted message of tandem's services (all instances), or null without a rate. */
function servicesMicros(step: StepResult): number | null {
  if (!(step.achievedRate > 0)) return null;
  const cores = ['edge-api', 'grpc-ingest', 'kafka-consumer', 'rabbit-consumer'].reduce(
    (sum, service) => sum + cpuOf(step, service),
    0,
  );
  return (cores * 1e6) / step.achievedRate;
}

/** CPU (cores) of the processes whose name starts with `prefix` (a service and its replicas), summed. */
function cpuOf(step: StepResult, prefix: string): number {
  return Object.entries(step.processes)
    .filter(([name]) => name === prefix || name.startsWith(`${prefix}-`))
    .reduce((sum, [, usage]) => sum + usage.cpuCores, 0);
}

interface Row {
  label: string;
  pick: (step: StepResult) => number | null;
  cell: (v: number) => string;
}

const pipelineRows = (p: PipelineName): Row[] => [
  { label: `${pipelineLabel[p]} e2e p50 ms`, pick: (s) => s.pipelines[p].e2e.p50, cell: msCell },
  { label: `${pipelineLabel[p]} e2e p99 ms`, pick: (s) => s.pipelines[p].e2e.p99, cell: msCell },
];

const rows: Row[] = [
  { label: 'achieved msg/s', pick: (s) => s.achievedRate, cell: (v) => num(v) },
  { label: 'HTTP p50 ms', pick: (s) => s.http.p50, cell: msCell },
  { label: 'HTTP p99 ms', pick: (s) => s.http.p99, cell: msCell },
  ...pipelineNames.flatMap(pipelineRows),
  { label: 'edge-api CPU (cores)', pick: (s) => cpuOf(s, 'edge-api'), cell: (v) => num(v, 2) },
  { label: 'grpc-ingest CPU (cores)', pick: (s) => cpuOf(s, 'grpc-ingest'), cell: (v) => num(v, 2) },
  { label: 'machine busy (cores)', pick: (s) => s.machine.busyCores, cell: (v) => num(v, 2) },
];
/** Only between two version-2 runs (the older reports' tables stay as they were). */
const v2Rows: Row[] = [
  { label: "tandem's services CPU µs/msg", pick: servicesMicros, cell: (v) => num(v, 0) },
];

const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `×${(b / a).toFixed(2)}` : '–';

export function comparison(a: BenchReport, b: BenchReport, names: readonly [string, string]): string {
  const groupsB = new Map(byRate(b.steps).map((g) => [g.rate, g]));
  const pairs = byRate(a.steps)
    .map((g) => [g, groupsB.get(g.rate)] as const)
    .filter((pair): pair is readonly [RateSummary, RateSummary] => pair[1] !== undefined);
  const other = (r: BenchReport) => num(median(r.steps.map((s) => s.machine.otherCores)), 2);
  const lines = [
    `# tandem bench — ${runLabel(a)} (A) vs ${runLabel(b)} (B)`,
    '',
    `- A: [${names[0]}](${names[0]}.md) — ${runLabel(a)}, revision ${a.git}, ${a.settings.repeats} repeat(s) of ${a.settings.durationSeconds} s steps; other work on the machine: median ${other(a)} cores.`,
    `- B: [${names[1]}](${names[1]}.md) — ${runLabel(b)}, revision ${b.git}, ${b.settings.repeats} repeat(s) of ${b.settings.durationSeconds} s steps; other work on the machine: median ${other(b)} cores.`,
    `- Machine: ${a.machine.cpu}, ${a.machine.cores} cores${a.machine.cpu === b.machine.cpu && a.machine.cores === b.machine.cores ? ', both runs' : `; B: ${b.machine.cpu}, ${b.machine.cores} cores`}.`,
    '',
    'Each cell: A → B (B / A), medians over the repeats. A ratio below 1 means B is lower (faster, or cheaper).',
    '',
  ];
  if (pairs.length === 0) return [...lines, 'The two runs have no offered rate in common.', ''].join('\n');
  lines.push(
    table(
      ['', ...pairs.map(([g]) => `${g.rate} msg/s`)],
      [...rows, ...(a.version >= 2 && b.version >= 2 ? v2Rows : [])].map((row) => [
        row.label,
        ...pairs.map(([ga, gb]) => {
          const va = ga.of(row.pick).median;
          const vb = gb.of(row.pick).median;
          return `${row.cell(va)} → ${row.cell(vb)} (${ratio(va, vb)})`;
        }),
      ]),
    ),
    '',
  );
  return lines.join('\n');
}
