/**
 * `npm run soak [-- --rate 600 --minutes 30 --sample 15]`: a long run at a steady rate, to show that memory and
 * latency stay flat. Starts the stack and a system of its own through the launcher, drives open-model load with
 * k6 (`soak` scenario), and samples every process — RSS of the four services, Kafka, RabbitMQ, Redis and Valkey;
 * V8 heap and event-loop delay of the services; end-to-end latency and backlog per pipeline; what each store has
 * counted. At the end: each process's RSS growth after the warm-up (flat: under 10 %), errors, and whether every
 * accepted message was counted exactly once in both stores. Writes bench/results/soak-<time>.md and .json (a run
 * under 10 minutes is a check, not a result: it goes under the git-ignored bench/results/tmp/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { projectRoot } from '@tandem/config';
import { localStack } from '@tandem/stack';
import type { ServiceName } from '@tandem/system';
import { consumerBacklog, gaugeValue, takeLatency } from '../consumers.ts';
import { ensureK6, runK6, stat } from '../k6.ts';
import { withMeasuredSystem } from '../measured-system.ts';
import { findDescendant, readMemory } from '../procstat.ts';
import { median, memoryVerdicts, type Sample } from './verdict.ts';

process.title = 'soak';
const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '600' },
    minutes: { type: 'string', default: '30' },
    sample: { type: 'string', default: '15' },
    warmup: { type: 'string' },
    'port-base': { type: 'string', default: '18800' },
    db: { type: 'string', default: '13' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(
    'usage: npm run soak [-- --rate 600] [--minutes 30] [--sample 15] [--warmup MIN] [--port-base 18800] [--db 13]\n' +
      '  rate: messages per second (default: half the sustained rate of the last baseline on 2 cores)',
  );
  process.exit(0);
}
const rate = Number(flags.rate);
const minutes = Number(flags.minutes);
const sampleSeconds = Number(flags.sample);
// The first sixth of the run (at most 5 min) fills the JIT, the connection pools and the consumers' batches.
const warmupSeconds =
  flags.warmup === undefined ? Math.min(300, (minutes * 60) / 6) : Number(flags.warmup) * 60;
if (!(rate > 0) || !(minutes > 0) || !(sampleSeconds >= 1) || !(warmupSeconds >= 0)) {
  console.error('soak: --rate and --minutes must be positive, --sample at least 1, --warmup at least 0');
  process.exit(2);
}
const windowSeconds = Math.min(300, (minutes * 60) / 6);
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const say = (message: string) => console.log(`${colour ? '\x1b[36msoak\x1b[0m' : 'soak'} ${message}`);

const stamp = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, 'Z')
  .replace(/:/g, '-');
const resultsDir = join(projectRoot, 'bench', 'results');
const outBase = join(minutes >= 10 ? resultsDir : join(resultsDir, 'tmp'), `soak-${stamp}`);
const workDir = join(resultsDir, 'tmp', `soak-${stamp}`);
mkdirSync(workDir, { recursive: true });

const stack = localStack({ progress: (message) => say(`stack: ${message}`) });
await stack.up();
const k6 = ensureK6();
const pipelines = {
  'kafka-redis': 'kafka-consumer',
  'rabbitmq-valkey': 'rabbit-consumer',
} as const satisfies Record<string, ServiceName>;
const launch = {
  say,
  portBase: Number(flags['port-base']),
  run: 'soak',
  db: Number(flags.db),
  logDir: workDir,
};
await withMeasuredSystem(stack, launch, async ({ system, stores }) => {
  const servers = Object.entries(stack.pids()).map(([name, pid]) => ({
    name,
    // RabbitMQ's launcher script runs the Erlang VM as a child: that is what holds the memory.
    pid: name === 'rabbitmq' ? (findDescendant(pid, 'beam.smp') ?? pid) : pid,
  }));
  const samples: Sample[] = [];
  const started = Date.now();
  let loadRunning = true;

  async function takeSample(): Promise<Sample> {
    const processes: Sample['processes'] = {};
    for (const { name, pid } of system.processes()) {
      const memory = readMemory(pid);
      const text = await fetch(`${system.metricsUrl(name)}/metrics`, { signal: AbortSignal.timeout(5000) })
        .then((r) => r.text())
        .catch(() => '');
      const heap = gaugeValue(text, 'nodejs_heap_size_used_bytes', {});
      const loop = gaugeValue(text, 'nodejs_eventloop_lag_p99_seconds', {});
      processes[name] = {
        rssMb: (memory?.rssKb ?? Number.NaN) / 1024,
        ...(heap === null ? {} : { heapMb: heap / 2 ** 20 }),
        ...(loop === null ? {} : { loopDelayP99Ms: loop * 1000 }),
      };
    }
    for (const { name, pid } of servers)
      processes[name] = { rssMb: (readMemory(pid)?.rssKb ?? Number.NaN) / 1024 };
    const e2e: Sample['e2e'] = {};
    const backlog: Sample['backlog'] = {};
    for (const [pipeline, consumer] of Object.entries(pipelines)) {
      const latency = await takeLatency(system.metricsUrl(consumer));
      e2e[pipeline] = { p50: latency.p50, p99: latency.p99, count: latency.count };
      backlog[pipeline] = await consumerBacklog(system.metricsUrl(consumer), pipeline);
    }
    const counted = await stores.totals();
    return { at: Math.round((Date.now() - started) / 1000), processes, e2e, backlog, counted };
  }

  const sampling = (async () => {
    await takeLatency(system.metricsUrl('kafka-consumer'));
    await takeLatency(system.metricsUrl('rabbit-consumer'));
    while (loadRunning) {
      await sleep(sampleSeconds * 1000);
      if (!loadRunning) break;
      const sample = await takeSample();
      samples.push(sample);
      const edge = sample.processes['edge-api'];
      say(
        `${(sample.at / 60).toFixed(1)}/${minutes} min: counted ${sample.counted.redis} / ${sample.counted.valkey}; ` +
          `edge RSS ${edge?.rssMb.toFixed(0)} MB; e2e p99 Kafka ${sample.e2e['kafka-redis']?.p99} ms, ` +
          `RabbitMQ ${sample.e2e['rabbitmq-valkey']?.p99} ms; backlog ${sample.backlog['kafka-redis']} / ${sample.backlog['rabbitmq-valkey']}`,
      );
    }
  })();

  say(
    `${minutes} min at ${rate} msg/s, a sample every ${sampleSeconds} s; logs in ${relative(projectRoot, workDir)}/`,
  );
  const run = await runK6({
    k6,
    scenario: 'soak',
    env: {
      BASE_URL: system.edgeUrl,
      RUN_ID: `soak${stamp.replace(/\D/g, '').slice(2, 14)}`,
      RATE: String(rate),
      DURATION: `${minutes * 60}s`,
      PRE_VUS: String(Math.max(20, Math.ceil(rate / 4))),
      MAX_VUS: String(Math.max(50, rate)),
      RETRY_SHARE: '0',
      INVALID_SHARE: '0',
      NO_ID_SHARE: '0',
      MAX_RETRIES: '0',
    },
    summaryFile: join(workDir, 'k6.json'),
    args: ['--no-thresholds'],
    output: 'quiet',
  });
  loadRunning = false;
  await sampling;
  if (!run.summary) throw new Error(`k6 wrote no summary (exit ${run.code}); see ${workDir}`);
  const accepted = run.summary.tandem.idsAccepted;
  const unresolved = run.summary.tandem.idsUnresolved;

  // Drain: until each store holds every accepted message, then a moment for a late double count to show.
  const drainStarted = Date.now();
  let totals = await stores.totals();
  while (Date.now() - drainStarted < 120_000 && (totals.redis < accepted || totals.valkey < accepted)) {
    await sleep(500);
    totals = await stores.totals();
  }
  await sleep(1000);
  totals = await stores.totals();

  const verdicts = memoryVerdicts(samples, { warmupSeconds, windowSeconds, maxGrowth: 0.1 });
  const errorRate = stat(run.summary, 'http_req_failed', 'rate');
  const dropped = stat(run.summary, 'dropped_iterations', 'count');
  const exact = [totals.redis, totals.valkey].every((t) => t >= accepted && t <= accepted + unresolved);
  const services = new Set(system.instances.map((i) => i.name));
  const servicesFlat = verdicts.filter((v) => services.has(v.process)).every((v) => v.flat);
  const report = {
    tool: 'tandem soak',
    startedAt: new Date(started).toISOString(),
    settings: { rate, minutes, sampleSeconds, warmupSeconds, windowSeconds },
    k6: { accepted, unresolved, errorRate, dropped, requests: stat(run.summary, 'http_reqs', 'count') },
    counted: totals,
    exact,
    verdicts,
    samples,
    ok: exact && errorRate === 0 && servicesFlat,
  };
  mkdirSync(join(outBase, '..'), { recursive: true });
  writeFileSync(`${outBase}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${outBase}.md`, markdown(report));
  say(`wrote ${relative(projectRoot, outBase)}.md and .json`);
  say(
    `${report.ok ? 'flat and exact' : 'NOT OK'}: accepted ${accepted}, counted ${totals.redis} / ${totals.valkey}, errors ${(errorRate * 100).toFixed(2)} %; ` +
      verdicts.map((v) => `${v.process} ${(v.growth * 100).toFixed(1)} %`).join(', '),
  );
  if (!report.ok) process.exitCode = 1;
});

function markdown(report: {
  startedAt: string;
  settings: {
    rate: number;
    minutes: number;
    sampleSeconds: number;
    warmupSeconds: number;
    windowSeconds: number;
  };
  k6: { accepted: number; unresolved: number; errorRate: number; dropped: number; requests: number };
  counted: Record<string, number>;
  exact: boolean;
  verdicts: ReturnType<typeof memoryVerdicts>;
  samples: Sample[];
  ok: boolean;
}): string {
  const { settings, k6, samples } = report;
  const mb = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(0));
  const ms = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
  const names = report.verdicts.map((v) => v.process);
  // About twenty rows, evenly spread, so the table reads in one screen.
  const every = Math.max(1, Math.round(samples.length / 20));
  const rows = samples.filter((_, i) => i % every === 0 || i === samples.length - 1);
  const third = (from: number) =>
    samples.slice(Math.floor((samples.length * from) / 3), Math.floor((samples.length * (from + 1)) / 3));
  const p99 = (pipeline: string, of: Sample[]) => median(of.map((s) => s.e2e[pipeline]?.p99 ?? Number.NaN));
  return [
    `# Soak: ${settings.minutes} min at ${settings.rate} msg/s (${report.startedAt})`,
    '',
    `**${report.ok ? 'Flat and exact.' : 'NOT OK.'}** ${k6.accepted} messages accepted, Redis counted ${report.counted.redis}, Valkey ${report.counted.valkey} — ${report.exact ? 'every one exactly once' : 'NOT exact'}; ${k6.requests} requests, ${(k6.errorRate * 100).toFixed(2)} % errors, ${k6.dropped} arrivals dropped by k6.`,
    '',
    `Memory: the median RSS over the ${settings.windowSeconds / 60} min after the ${settings.warmupSeconds / 60} min warm-up against the median over the last ${settings.windowSeconds / 60} min (flat: grew less than 10 %).`,
    '',
    '| process | after warm-up (MB) | at the end (MB) | peak (MB) | growth | flat |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...report.verdicts.map(
      (v) =>
        `| ${v.process} | ${mb(v.afterWarmupMb)} | ${mb(v.atEndMb)} | ${mb(v.peakMb)} | ${(v.growth * 100).toFixed(1)} % | ${v.flat ? 'yes' : '**no**'} |`,
    ),
    '',
    'End-to-end latency p99 (accepted → counted), median of the per-interval p99 over each third of the run:',
    '',
    '| pipeline | first third (ms) | second (ms) | last (ms) |',
    '| --- | ---: | ---: | ---: |',
    ...['kafka-redis', 'rabbitmq-valkey'].map(
      (p) => `| ${p} | ${ms(p99(p, third(0)))} | ${ms(p99(p, third(1)))} | ${ms(p99(p, third(2)))} |`,
    ),
    '',
    `Over time (every ${every * settings.sampleSeconds} s): RSS in MB, services' heap in MB and event-loop delay p99 in ms, e2e p99 in ms and backlog per pipeline.`,
    '',
    `| min | ${names.map((n) => `${n} RSS`).join(' | ')} | edge heap | edge loop p99 | Kafka e2e p99 | RabbitMQ e2e p99 | Kafka backlog | RabbitMQ backlog |`,
    `| ---: | ${names.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: |`,
    ...rows.map(
      (s) =>
        `| ${(s.at / 60).toFixed(1)} | ${names.map((n) => mb(s.processes[n]?.rssMb)).join(' | ')} | ${mb(s.processes['edge-api']?.heapMb)} | ${ms(s.processes['edge-api']?.loopDelayP99Ms)} | ${s.e2e['kafka-redis']?.p99 ?? '–'} | ${s.e2e['rabbitmq-valkey']?.p99 ?? '–'} | ${s.backlog['kafka-redis'] ?? '–'} | ${s.backlog['rabbitmq-valkey'] ?? '–'} |`,
    ),
    '',
  ].join('\n');
}
