/**
 * The k6 binary (built by install-k6.sh when missing) and one k6 run: its scripts are in `loadtest/k6/`, its
 * settings go in as environment variables (`__ENV` in the scripts), and its summary comes back as JSON
 * (handleSummary writes SUMMARY_FILE).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';

export const loadtestDir = join(projectRoot, 'loadtest');
export const scriptsDir = join(loadtestDir, 'k6');
export const scenarios = ['smoke', 'steady', 'ramp', 'spike', 'soak', 'batch'] as const;
export type Scenario = (typeof scenarios)[number];

export function isScenario(name: string): name is Scenario {
  return (scenarios as readonly string[]).includes(name);
}

/** The path of a k6 that works: K6 if set, else the pinned build in .tools/bin (built now if missing). */
export function ensureK6(): string {
  if (process.env.K6) return process.env.K6;
  const result = spawnSync('bash', [join(loadtestDir, 'install-k6.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const path = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.status !== 0 || !existsSync(path)) {
    throw new Error(`k6 could not be installed (install-k6.sh exited ${result.status})`);
  }
  return path;
}

export function k6Version(k6: string): string {
  return spawnSync(k6, ['version'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] ?? 'unknown';
}

/** The part of a k6 summary the tools read (handleSummary in k6/lib.js adds `tandem`). */
export interface K6Summary {
  metrics: Record<
    string,
    { type: string; values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }
  >;
  state?: { testRunDurationMs: number };
  tandem: {
    runId: string;
    idsAccepted: number;
    anonymousAccepted: number;
    idsUnresolved: number;
    anonymousUnresolved: number;
    invalidRejected: number;
    duplicateSends: number;
    retrySends: number;
  };
}

export interface K6Run {
  /** k6's exit code: 0, 99 when a threshold failed, others for errors (see k6's errext). */
  code: number;
  summary: K6Summary | undefined;
}

export interface K6Options {
  k6: string;
  scenario: Scenario;
  env: Record<string, string>;
  summaryFile: string;
  /** Extra k6 arguments, e.g. `--no-thresholds`. */
  args?: readonly string[];
  /** Where k6's own output goes: shown, or kept quiet (the bench prints its own progress). */
  output: 'inherit' | 'quiet';
  /** The spawned k6's pid, as soon as it runs (the bench measures its CPU). */
  onStart?: (pid: number) => void;
}

export function runK6(options: K6Options): Promise<K6Run> {
  const args = [
    'run',
    ...(options.output === 'quiet' ? ['--quiet'] : []),
    ...(process.stdout.isTTY ? [] : ['--no-color']),
    ...(options.args ?? []),
    join(scriptsDir, `${options.scenario}.js`),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.k6, args, {
      cwd: projectRoot,
      env: { ...process.env, ...options.env, SUMMARY_FILE: options.summaryFile },
      stdio: options.output === 'inherit' ? 'inherit' : ['ignore', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    if (child.pid !== undefined) options.onStart?.(child.pid);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const summary = existsSync(options.summaryFile)
        ? (JSON.parse(readFileSync(options.summaryFile, 'utf8')) as K6Summary)
        : undefined;
      if (summary === undefined && errors) process.stderr.write(errors);
      resolve({ code: code ?? (signal ? 128 : 1), summary });
    });
  });
}

/** A metric's statistic from a summary, 0 when k6 never recorded it (e.g. dropped_iterations). */
export function stat(summary: K6Summary, metric: string, name: string): number {
  return summary.metrics[metric]?.values[name] ?? 0;
}
