/**
 * `npm run bench [-- --quick] [-- --rates 50,100,200 --duration 30 --repeats 3 --replicas 2 …]`
 *
 * Brings up the local stack and a system of its own through the launcher (its own ports, topic, queue, consumer
 * group and Redis/Valkey database), warms it up, then drives open-model load (vegeta at a constant rate, on
 * POST /input or, with --batch, POST /input/batch) at increasing rates, each step repeated. Per step it measures:
 * offered and achieved rate, HTTP latency (vegeta), end-to-end latency accepted → counted for EACH pipeline (the
 * consumers' HdrHistograms, same clock), consumer lag, CPU (also per message) and RSS of every process (services,
 * Kafka, RabbitMQ, Redis, Valkey, vegeta) and how busy the rest of the machine was, and that every accepted message
 * was counted exactly once in both stores. Then two references on the same machine: a bare Hono app, and RabbitMQ
 * alone. Writes bench/results/<time>.json, .md and .svg (a quick run writes under the git-ignored
 * bench/results/tmp/: it is a check, not a result to keep).
 *
 * `--render <file.json>` re-renders the Markdown and SVG of an earlier run; `--cpu-prof` also leaves a V8 CPU
 * profile of every service in the run's tmp folder.
 *
 * This file is the command line only: bench/plan.ts turns the flags into a plan, bench/run.ts runs it on the
 * system started here (bench/step.ts measures each step), report.ts renders the result.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { projectRoot } from '@tandem/config';
import { localStack } from '@tandem/stack';
import { type BenchPlan, describePlan, parseBenchArgs, UsageError, usage } from './bench/plan.ts';
import { runBench } from './bench/run.ts';
import { say } from './bench/say.ts';
import { comparison } from './comparison.ts';
import { withMeasuredSystem } from './measured-system.ts';
import { type BenchReport, markdown, svg } from './report.ts';
import { ensureVegeta } from './vegeta.ts';

process.title = 'bench';

let command: ReturnType<typeof parseBenchArgs>;
try {
  command = parseBenchArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`bench: ${error.message}`);
  process.exit(2);
}

switch (command.kind) {
  case 'help':
    console.log(usage);
    break;
  case 'compare':
    compare(command.first, command.second);
    break;
  case 'render':
    writeReports(
      JSON.parse(readFileSync(command.file, 'utf8')) as BenchReport,
      command.file.replace(/\.json$/, ''),
    );
    break;
  case 'run':
    await run(command.plan);
    break;
}

/** Starts the stack and the system, runs the plan, writes the reports, and always stops the system. */
async function run(plan: BenchPlan): Promise<void> {
  mkdirSync(plan.workDir, { recursive: true });
  say(`${describePlan(plan)} Logs in ${relative(projectRoot, plan.workDir)}/`);

  const stack = localStack({ progress: (message) => say(`stack: ${message}`) });
  if (plan.stackUp) {
    say('stack: up (idempotent)');
    await stack.up();
  }
  const vegeta = ensureVegeta();

  say(`system: starting on ports ${plan.portBase}+ (its own topic, queue and group; database ${plan.db})`);
  const launch = {
    say,
    portBase: plan.portBase,
    run: 'bench',
    db: plan.db,
    replicas: plan.replicas,
    ingest: plan.ingest,
    env: plan.serviceEnv,
    logDir: plan.workDir,
    ...(plan.cpuProfile ? { cpuProfileDir: join(plan.workDir, 'cpu-profiles') } : {}),
  };
  await withMeasuredSystem(stack, launch, async ({ system, stores }) => {
    writeReports(await runBench(plan, { system, stores, stack, vegeta }), plan.outBase);
  });
  if (plan.cpuProfile) {
    say(
      `CPU profiles (written as each service exited): ${relative(projectRoot, join(plan.workDir, 'cpu-profiles'))}/<process>/*.cpuprofile — open them in Chrome DevTools (Performance) or speedscope`,
    );
  }
}

/** Two reports side by side, written next to the first as `<A>-vs-<B>.md` and shown. */
function compare(first: string, second: string): void {
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
}

function writeReports(report: BenchReport, base: string): void {
  mkdirSync(join(base, '..'), { recursive: true });
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.svg`, svg(report));
  writeFileSync(`${base}.md`, markdown(report, `${basename(base)}.svg`));
  for (const ext of ['md', 'json', 'svg']) say(`wrote ${relative(projectRoot, `${base}.${ext}`)}`);
}
