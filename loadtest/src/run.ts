/**
 * `npm run loadtest -- <scenario> [--base-url URL] [--no-verify] [--settle-timeout S] [-- <k6 arguments>]`
 *
 * Runs one k6 scenario of `loadtest/k6/` against the edge (BASE_URL, default http://127.0.0.1:8080: what
 * `npm start` runs), then checks that every message it got accepted was counted exactly once in BOTH stores:
 * it reads the stores before, learns from k6's summary how many distinct ids got a 202, waits until both
 * consumers caught up, and compares. Every scenario setting is an environment variable (see README.md), e.g.
 * `RATE=200 DURATION=2m npm run loadtest -- steady`.
 *
 * Exit code: k6's when it failed (99: a threshold), else 1 when the stores do not add up, else 0.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@tandem/config';
import { ensureK6, isScenario, k6Version, loadtestDir, runK6, scenarios } from './k6.ts';
import { backlogs, openStores, pipelinesConfig } from './stores.ts';
import { expectedFrom, judge, settle } from './verify.ts';

process.title = 'loadtest';
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'base-url': { type: 'string' },
    'no-verify': { type: 'boolean' },
    'settle-timeout': { type: 'string', default: '120' },
    help: { type: 'boolean', short: 'h' },
  },
});
const [scenario, ...k6Args] = positionals;
if (flags.help || scenario === undefined || !isScenario(scenario)) {
  console.error(
    `usage: npm run loadtest -- <${scenarios.join('|')}> [--base-url URL] [--no-verify] [--settle-timeout S] [-- k6 args]`,
  );
  process.exit(flags.help ? 0 : 2);
}
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const say = (message: string) => console.log(`${colour ? '\x1b[36mloadtest\x1b[0m' : 'loadtest'} ${message}`);

const baseUrl = flags['base-url'] ?? process.env.BASE_URL ?? 'http://127.0.0.1:8080';
const verify = !flags['no-verify'];
const runId = `lt${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;
const resultsDir = join(loadtestDir, 'results');
mkdirSync(resultsDir, { recursive: true });
const summaryFile = join(resultsDir, `${scenario}-${runId}.json`);

let config: ReturnType<typeof pipelinesConfig> | undefined;
try {
  config = verify ? pipelinesConfig() : undefined;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`loadtest: ${error.message}\n(run \`npm run stack:up\`, or pass --no-verify)`);
  process.exit(2);
}
const stores = config ? await openStores(config) : undefined;
try {
  const k6 = ensureK6();
  say(`${scenario} against ${baseUrl} with ${k6Version(k6)}, run ${runId}`);
  const before = await stores?.totals();
  const run = await runK6({
    k6,
    scenario,
    env: { BASE_URL: baseUrl, RUN_ID: runId },
    summaryFile,
    args: k6Args,
    output: 'inherit',
  });
  if (run.summary === undefined) {
    say(`k6 exited with ${run.code} and wrote no summary`);
    process.exitCode = run.code || 1;
  } else {
    say(`k6 summary: ${summaryFile}`);
    if (run.code !== 0) say(`k6 exited with ${run.code}${run.code === 99 ? ' (a threshold failed)' : ''}`);
    process.exitCode = run.code;
    if (stores && config && before) {
      const pipelines = config;
      const expected = expectedFrom(run.summary);
      say(`waiting until both consumers have counted the ${expected.ids} accepted ids of ${runId}`);
      let lastShown = 0;
      const settled = await settle({
        stores,
        prefix: `${runId}-`,
        expectedIds: expected.ids,
        backlogs: () => backlogs(pipelines),
        timeoutMs: Number(flags['settle-timeout']) * 1000,
        onWait: ({ seen, backlogs: b, elapsedMs }) => {
          if (elapsedMs - lastShown < 5000) return;
          lastShown = elapsedMs;
          say(
            `  ${(elapsedMs / 1000).toFixed(0)}s: Redis ${seen.redis}, Valkey ${seen.valkey} ids; backlog Kafka ${b.kafka ?? '?'}, RabbitMQ ${b.rabbitmq ?? '?'}${b.errors.length ? ` (${b.errors.join('; ')})` : ''}`,
          );
        },
      });
      const after = await stores.totals();
      const verdict = judge(expected, {
        seen: settled.seen,
        delta: { redis: after.redis - before.redis, valkey: after.valkey - before.valkey },
      });
      if (!settled.settled) say(`the consumers did not catch up within ${flags['settle-timeout']}s`);
      for (const line of verdict.lines) say(`  ${line}`);
      for (const warning of verdict.warnings) say(`  note: ${warning}`);
      const ok = verdict.ok && settled.settled;
      say(
        ok
          ? `every accepted message was counted ${verdict.exact ? 'exactly once' : 'once'} in both stores (${(settled.elapsedMs / 1000).toFixed(1)}s after k6 ended)`
          : 'the stores do not add up',
      );
      if (!ok && process.exitCode === 0) process.exitCode = 1;
    }
  }
} finally {
  await stores?.close();
}
