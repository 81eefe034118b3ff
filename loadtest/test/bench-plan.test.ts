import { join } from 'node:path';
import { projectRoot } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import {
  type BenchCommand,
  type BenchPlan,
  describePlan,
  floorWarmupSeconds,
  ladders,
  parseBenchArgs,
  parseServiceEnv,
  resultsDir,
  UsageError,
} from '../src/bench/plan.ts';

const now = new Date('2026-11-21T16:06:30.123Z');

function plan(...args: string[]): BenchPlan {
  const command = parseBenchArgs(args, now);
  if (command.kind !== 'run') throw new Error(`not a run: ${command.kind}`);
  return command.plan;
}

const refused =
  (...args: string[]) =>
  () =>
    parseBenchArgs(args, now);

describe('the bench command line', () => {
  it('--help, --compare A B and --render FILE are commands of their own', () => {
    expect(parseBenchArgs(['--help'])).toEqual<BenchCommand>({ kind: 'help' });
    expect(parseBenchArgs(['-h', '--quick'])).toEqual<BenchCommand>({ kind: 'help' });
    expect(parseBenchArgs(['--compare', 'a.json', 'b.json'])).toEqual<BenchCommand>({
      kind: 'compare',
      first: 'a.json',
      second: 'b.json',
    });
    expect(parseBenchArgs(['--render', 'r.json'])).toEqual<BenchCommand>({ kind: 'render', file: 'r.json' });
  });

  it('refuses --compare without exactly two reports, a stray argument and an unknown flag', () => {
    expect(refused('--compare', 'a.json')).toThrow(/--compare takes two reports/);
    expect(refused('--compare', 'a.json', 'b.json', 'c.json')).toThrow(/--compare takes two reports/);
    expect(refused('extra')).toThrow(/unexpected argument extra/);
    expect(refused('--rate', '5')).toThrow(UsageError);
    expect(refused('--duration')).toThrow(UsageError);
  });
});

describe('the plan', () => {
  it('a quick run: the quick ladder, written under the git-ignored bench/results/tmp/', () => {
    const p = plan('--quick');
    expect(p.mode).toBe('quick');
    expect(p).toMatchObject({ ...ladders.quick, rates: [50, 100, 200] });
    expect(p.outBase).toBe(join(projectRoot, 'bench', 'results', 'tmp', '2026-11-21T16-06-30Z-quick'));
    expect(p.workDir).toBe(join(resultsDir, 'tmp', '2026-11-21T16-06-30Z-quick'));
    expect(p.stamp).toBe('2026-11-21T16-06-30Z');
  });

  it('a full run: the full ladder, with the defaults, written to bench/results/ itself', () => {
    const p = plan();
    expect(p).toMatchObject({
      mode: 'full',
      rates: [100, 200, 400, 800, 1200, 1600, 2000, 2500, 3000, 4000, 5000, 6000],
      durationSeconds: 60,
      repeats: 3,
      warmupSeconds: 20,
      replicas: 1,
      ingest: 'grpc',
      path: 'single',
      batchSize: 1,
      serviceEnv: {},
      referenceSeconds: 10,
      referenceConnections: 50,
      portBase: 18600,
      db: 14,
      drainTimeoutMs: 60_000,
      stackUp: true,
      cpuProfile: false,
    });
    expect(p.outBase).toBe(join(resultsDir, '2026-11-21T16-06-30Z'));
    // The logs always go under tmp/, whatever the reports' folder.
    expect(p.workDir).toBe(join(resultsDir, 'tmp', '2026-11-21T16-06-30Z'));
  });

  it('custom as soon as --rates, --duration or --repeats changes the ladder; --warmup does not', () => {
    expect(plan('--rates', '10,20').mode).toBe('custom');
    expect(plan('--quick', '--duration', '5').mode).toBe('custom');
    expect(plan('--repeats', '1').mode).toBe('custom');
    expect(plan('--quick', '--warmup', '0').mode).toBe('quick');
    // A custom run is a result: it goes to bench/results/, the quick ladder's other settings kept.
    const p = plan('--quick', '--rates', '10,20');
    expect(p).toMatchObject({ rates: [10, 20], durationSeconds: 10, repeats: 2, warmupSeconds: 10 });
    expect(p.outBase).toBe(join(resultsDir, '2026-11-21T16-06-30Z'));
    // A profiled run's figures carry the profiler's cost: a check too.
    expect(plan('--rates', '800', '--cpu-prof').outBase).toBe(
      join(resultsDir, 'tmp', '2026-11-21T16-06-30Z-cpuprof'),
    );
  });

  it('names the run after what changes what is measured; --out moves the reports, not the logs', () => {
    expect(plan('--quick', '--replicas', '2', '--cpu-prof').outBase).toMatch(
      /2026-11-21T16-06-30Z-quick-replicas2-cpuprof$/,
    );
    const p = plan('--ingest', 'http', '--out', '/tmp/elsewhere');
    expect(p.outBase).toBe('/tmp/elsewhere/2026-11-21T16-06-30Z-http');
    expect(p.workDir).toBe(join(resultsDir, 'tmp', '2026-11-21T16-06-30Z-http'));
  });

  it('takes the system settings as given', () => {
    expect(
      plan('--port-base', '19000', '--db', '3', '--drain-timeout', '5', '--no-stack-up', '--cpu-prof'),
    ).toMatchObject({ portBase: 19000, db: 3, drainTimeoutMs: 5000, stackUp: false, cpuProfile: true });
  });

  it('refuses rates, durations, repeats and warm-ups that make no sense', () => {
    const message = /--rates must be positive numbers, --duration and --repeats positive, --warmup ≥ 0/;
    expect(refused('--rates', '50,0')).toThrow(message);
    expect(refused('--rates', '50,-10')).toThrow(message);
    expect(refused('--rates', '50,abc')).toThrow(message);
    expect(refused('--rates', '50,,100')).toThrow(message);
    expect(refused('--duration', '0')).toThrow(message);
    expect(refused('--repeats', '0')).toThrow(message);
    expect(refused('--warmup=-1')).toThrow(message);
    expect(plan('--warmup', '0').warmupSeconds).toBe(0);
  });

  it('refuses an unknown transport, and HTTP/JSON with two replicas', () => {
    expect(refused('--ingest', 'websocket')).toThrow('--ingest must be grpc or http, not websocket');
    expect(refused('--ingest', 'toString')).toThrow(/--ingest must be grpc or http/);
    expect(refused('--ingest', 'http', '--replicas', '2')).toThrow(
      '--ingest http runs with one ingest; it cannot be combined with --replicas 2',
    );
    expect(plan('--ingest', 'http').replicas).toBe(1);
    expect(plan('--replicas', '2').replicas).toBe(2);
  });

  it('describes itself in one line, with an estimate', () => {
    expect(describePlan(plan('--quick'))).toBe(
      'quick: POST /input at 50, 100, 200 msg/s × 10s, 2 repeat(s), 1 replica(s), edge → ingest over gRPC; then the references, 3s each, and the bare Hono app and the brokers alone at each rate for 10s; about 4 min.',
    );
    expect(
      describePlan(plan('--quick', '--batch', '--reference-seconds', '0', '--service-env', 'KAFKA_CLIENT=x')),
    ).toBe(
      'quick: POST /input/batch (100 per request) at 500, 1000, 2000 msg/s × 10s, 2 repeat(s), 1 replica(s), edge → ingest over gRPC, services with KAFKA_CLIENT=x; about 2 min.',
    );
  });
});

describe('--batch', () => {
  it('climbs its own ladder in messages per second, 100 messages a request unless --batch-size says', () => {
    expect(plan('--batch', '--quick')).toMatchObject({
      ...ladders.quickBatch,
      path: 'batch',
      batchSize: 100,
    });
    expect(plan('--batch')).toMatchObject({ ...ladders.fullBatch, mode: 'full', path: 'batch' });
    expect(plan('--batch', '--batch-size', '50').batchSize).toBe(50);
    expect(plan('--batch-size', '50').batchSize).toBe(1);
    expect(plan('--batch', '--quick').outBase).toMatch(/2026-11-21T16-06-30Z-quick-batch$/);
  });

  it('refuses a batch size the edge would refuse', () => {
    const message = /--batch-size must be a whole number from 1 to 1000/;
    expect(refused('--batch', '--batch-size', '0')).toThrow(message);
    expect(refused('--batch', '--batch-size', '1001')).toThrow(message);
    expect(refused('--batch', '--batch-size', '2.5')).toThrow(message);
  });
});

describe('--service-env and the references', () => {
  it('passes KEY=VALUE pairs to every service, the last of a key winning; a value may hold "="', () => {
    expect(
      plan('--service-env', 'KAFKA_CLIENT=platformatic', '--service-env', 'A=b=c', '--service-env', 'A=d')
        .serviceEnv,
    ).toEqual({ KAFKA_CLIENT: 'platformatic', A: 'd' });
    expect(parseServiceEnv(['EMPTY='])).toEqual({ EMPTY: '' });
  });

  it('refuses what is not KEY=VALUE', () => {
    expect(refused('--service-env', 'NOVALUE')).toThrow(/--service-env takes KEY=VALUE/);
    expect(refused('--service-env', '1X=2')).toThrow(/--service-env takes KEY=VALUE/);
    expect(refused('--service-env', '=2')).toThrow(/--service-env takes KEY=VALUE/);
  });

  it('measures the references for --reference-seconds (0: not at all) with --reference-connections', () => {
    expect(plan('--quick')).toMatchObject({ referenceSeconds: 3, referenceConnections: 50 });
    expect(plan('--reference-seconds', '0', '--reference-connections', '8')).toMatchObject({
      referenceSeconds: 0,
      referenceConnections: 8,
    });
    expect(refused('--reference-seconds=-1')).toThrow(/--reference-seconds must be ≥ 0/);
    expect(refused('--reference-connections', '0')).toThrow(/--reference-connections ≥ 1/);
  });

  it("measures the bare Hono app at the ladder's rates for a step, at most 15 s, unless --floor-seconds says", () => {
    expect(plan().floorSeconds).toBe(15);
    expect(plan('--quick').floorSeconds).toBe(10);
    expect(plan('--duration', '5').floorSeconds).toBe(5);
    expect(plan('--floor-seconds', '30').floorSeconds).toBe(30);
    expect(plan('--floor-seconds', '0').floorSeconds).toBe(0);
    expect(refused('--floor-seconds=-1')).toThrow(/--floor-seconds must be ≥ 0/);
    expect(refused('--floor-seconds', 'x')).toThrow(/--floor-seconds must be ≥ 0/);
    // Its warm-up at the first rate: the ladder's, at most the floor's and 5 s.
    expect(floorWarmupSeconds(plan())).toBe(5);
    expect(floorWarmupSeconds(plan('--warmup', '2'))).toBe(2);
    expect(floorWarmupSeconds(plan('--floor-seconds', '3'))).toBe(3);
  });

  it('not without references, nor in a batch run', () => {
    expect(plan('--reference-seconds', '0').floorSeconds).toBe(0);
    expect(plan('--batch').floorSeconds).toBe(0);
    const message = /--floor-seconds measures a reference of single-message runs/;
    expect(refused('--batch', '--floor-seconds', '5')).toThrow(message);
    expect(refused('--reference-seconds', '0', '--floor-seconds', '5')).toThrow(message);
  });
});
