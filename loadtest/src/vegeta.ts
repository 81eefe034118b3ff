/**
 * vegeta, the lean open-model generator that drives `npm run bench`'s ladder (k6 stays for the scenarios and
 * `npm run loadtest`): the binary (built by install-vegeta.sh when missing), one attack at a constant rate, and
 * its results read back with `vegeta report -type=json`.
 *
 * Why it keeps the open model honest: vegeta's pacer starts every request at its scheduled time and starts a new
 * worker (and connection) whenever none is free, so a slow answer never delays the next request — no coordinated
 * omission while it keeps its pace. Whether it did is in the result: `sentRate` against the rate asked for.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '@tandem/config';

/** The path of a vegeta that works: VEGETA if set, else the pinned build in .tools/bin (built now if missing). */
export function ensureVegeta(): string {
  if (process.env.VEGETA) return process.env.VEGETA;
  const result = spawnSync('bash', [join(projectRoot, 'loadtest', 'install-vegeta.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  const path = result.stdout.trim().split('\n').at(-1) ?? '';
  if (result.status !== 0 || !existsSync(path)) {
    throw new Error(`vegeta could not be installed (install-vegeta.sh exited ${result.status})`);
  }
  return path;
}

/** "vegeta v12.13.0": the version install-vegeta.sh recorded (a `go install` build reports none itself). */
export function vegetaVersion(vegeta: string): string {
  try {
    return `vegeta ${readFileSync(join(dirname(vegeta), '.vegeta-version'), 'utf8').trim()}`;
  } catch {
    return 'vegeta (version unknown)';
  }
}

/** vegeta's `-rate`: whole requests per second as `N/1s`, a fraction (a slow batch ladder) per 1000 s. */
export function rateArgument(requestsPerSecond: number): string {
  return Number.isInteger(requestsPerSecond)
    ? `${requestsPerSecond}/1s`
    : `${Math.round(requestsPerSecond * 1000)}/1000s`;
}

export interface AttackOptions {
  vegeta: string;
  /** vegeta's JSON targets, one request a line (bench/bodies.ts), cycled through. */
  targetsFile: string;
  /** Where vegeta writes its binary results (removed once read). */
  resultsFile: string;
  seconds: number;
  /** Open model: requests per second. Closed loop: leave it out and give `workers`. */
  rate?: number;
  /** Closed loop: this many workers, each sending its next request as soon as its answer came. */
  workers?: number;
  timeoutSeconds?: number;
  /** The spawned vegeta's pid, as soon as it runs (the bench measures its CPU). */
  onStart?: (pid: number) => void;
}

/** What an attack did, from `vegeta report -type=json` (latencies there in ns, here in ms). */
export interface AttackResult {
  requests: number;
  /** Requests per second vegeta sent. */
  sentRate: number;
  /** Answers by HTTP status; "0": no answer (refused, reset, timed out). */
  statusCodes: Record<string, number>;
  latencyMs: { mean: number; p50: number; p90: number; p95: number; p99: number; max: number };
  /** First seconds to last answer. */
  seconds: number;
  /** vegeta's distinct error texts. */
  errors: string[];
}

interface VegetaReport {
  latencies: Record<'mean' | '50th' | '90th' | '95th' | '99th' | 'max', number>;
  duration: number;
  wait: number;
  requests: number;
  rate: number;
  status_codes: Record<string, number>;
  errors: string[] | null;
}

export function parseReport(text: string): AttackResult {
  const r = JSON.parse(text) as VegetaReport;
  const ms = (ns: number) => ns / 1e6;
  return {
    requests: r.requests,
    sentRate: r.rate,
    statusCodes: r.status_codes ?? {},
    latencyMs: {
      mean: ms(r.latencies.mean),
      p50: ms(r.latencies['50th']),
      p90: ms(r.latencies['90th']),
      p95: ms(r.latencies['95th']),
      p99: ms(r.latencies['99th']),
      max: ms(r.latencies.max),
    },
    seconds: (r.duration + r.wait) / 1e9,
    errors: r.errors ?? [],
  };
}

export function attack(options: AttackOptions): Promise<AttackResult> {
  const pace =
    options.rate !== undefined
      ? [`-rate=${rateArgument(options.rate)}`]
      : ['-rate=0', `-max-workers=${options.workers ?? 50}`, `-workers=${options.workers ?? 50}`];
  const args = [
    'attack',
    '-format=json',
    `-targets=${options.targetsFile}`,
    `-duration=${options.seconds}s`,
    `-timeout=${options.timeoutSeconds ?? 10}s`,
    // The answers' bodies are not needed: not keeping them saves the generator's CPU and memory.
    '-max-body=0',
    `-output=${options.resultsFile}`,
    ...pace,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(options.vegeta, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    if (child.pid !== undefined) options.onStart?.(child.pid);
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`vegeta attack exited ${code}: ${errors.trim()}`));
        return;
      }
      const report = spawnSync(options.vegeta, ['report', '-type=json', options.resultsFile], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      rmSync(options.resultsFile, { force: true });
      if (report.status !== 0) {
        reject(new Error(`vegeta report exited ${report.status}: ${report.stderr.trim()}`));
        return;
      }
      resolve(parseReport(report.stdout));
    });
  });
}

/** Answers that may or may not have published their message: no answer at all, or a 5xx (as k6/lib.js). */
export function unresolvedRequests(result: Pick<AttackResult, 'statusCodes'>): number {
  return Object.entries(result.statusCodes)
    .filter(([status]) => status === '0' || Number(status) >= 500)
    .reduce((sum, [, n]) => sum + n, 0);
}
