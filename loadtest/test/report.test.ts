import { describe, expect, it } from 'vitest';
import { comparison, runLabel } from '../src/comparison.ts';
import {
  type BareHonoAtRate,
  type BenchReport,
  byRate,
  cpuMicrosPerMessage,
  describeErrorStatuses,
  knee,
  markdown,
  median,
  type PipelineStep,
  type StepResult,
  servicesMicrosPerMessage,
  sustainedRate,
  svg,
} from '../src/report.ts';
import { linearTicks, logTicks, roundDown, roundUp } from '../src/svg.ts';

const pipeline = (p99: number): PipelineStep => ({
  e2e: { count: 100, mean: 5, p50: 3, p90: 8, p95: 10, p99, p999: p99 + 5, max: p99 + 10, histogram: '' },
  countedPerSecond: 100,
  backlogMax: 3,
  backlogMean: 1,
  drainSeconds: 0.2,
  counted: 1000,
});

const step = (repeat: number, rate: number, overrides: Partial<StepResult> = {}): StepResult => ({
  repeat,
  rate,
  durationSeconds: 10,
  achievedRate: rate,
  requests: rate * 10,
  errorRate: 0,
  dropped: 0,
  http: { mean: 5, p50: 4, p90: 8, p95: 9, p99: 10 * repeat, max: 50 },
  pipelines: { 'kafka-redis': pipeline(20 * repeat), 'rabbitmq-valkey': pipeline(30) },
  exact: { ok: true, accepted: rate * 10, unresolved: 0, redis: rate * 10, valkey: rate * 10 },
  processes: { 'edge-api': { cpuCores: 0.25, rssMaxMb: 200, hwmMb: 210 } },
  machine: { cores: 2, busyCores: 1, otherCores: 0.1, loadAverage1m: 1 },
  saturated: null,
  ...overrides,
});

const report = (steps: StepResult[]): BenchReport => ({
  tool: 'tandem bench',
  version: 1,
  mode: 'quick',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:02:00.000Z',
  git: 'abc1234',
  machine: { cpu: 'Test CPU', cores: 2, memoryGb: 8, kernel: '6.1', node: 'v24', k6: 'k6 v1.8.1' },
  settings: {
    rates: [50, 100],
    durationSeconds: 10,
    repeats: 2,
    warmupSeconds: 5,
    replicas: 1,
    processes: [{ name: 'edge-api', kind: 'service' }],
  },
  steps,
  notes: ['a note <with> markup'],
});

describe('median and byRate', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('groups steps by rate with median, min and max over the repeats', () => {
    const groups = byRate([step(1, 100), step(1, 50), step(2, 50), step(3, 50)]);
    expect(groups.map((g) => [g.rate, g.runs])).toEqual([
      [50, 3],
      [100, 1],
    ]);
    expect(groups[0]?.of((s) => s.http.p99)).toEqual({ median: 20, min: 10, max: 30 });
  });
});

describe('sustainedRate', () => {
  it('is the highest rate up to which every run kept up', () => {
    expect(sustainedRate(report([step(1, 50), step(1, 100)]))).toBe(100);
    const slow = step(2, 100, { achievedRate: 80 });
    expect(sustainedRate(report([step(1, 50), step(1, 100), slow]))).toBe(50);
    const notDrained = step(1, 50, {
      pipelines: { 'kafka-redis': { ...pipeline(1), drainSeconds: null }, 'rabbitmq-valkey': pipeline(1) },
    });
    expect(sustainedRate(report([notDrained]))).toBeNull();
  });
});

describe('markdown', () => {
  it('has the verdict, every table, medians with their spread, and links the chart', () => {
    const text = markdown(report([step(1, 50), step(2, 50), step(1, 100), step(2, 100)]), 'chart.svg');
    expect(text).toContain('![throughput and latency per pipeline](chart.svg)');
    expect(text).toContain('every accepted message was counted exactly once');
    expect(text).toContain('every run kept up to 100 msg/s');
    for (const heading of [
      '## Throughput and HTTP latency',
      '## End-to-end latency',
      '## Consumer lag',
      '## CPU and memory per process',
      '## Exactness and noise',
    ]) {
      expect(text).toContain(heading);
    }
    // Kafka → Redis p99: 20 and 40 over the two repeats.
    expect(text).toMatch(/\| 50 \| 3\.0 \(3\.0–3\.0\) \| 10\.0 \(10\.0–10\.0\) \| 30\.0 \(20\.0–40\.0\) \|/);
  });

  it('says so loudly when a step was not exact', () => {
    const wrong = step(1, 50, {
      exact: { ok: false, accepted: 500, unresolved: 0, redis: 499, valkey: 500 },
    });
    expect(markdown(report([wrong]), 'c.svg')).toContain('**NOT EXACT');
  });

  it("lists each step's errors by status, with no column when no step recorded them (an earlier report)", () => {
    const failing = step(1, 100, {
      errorRate: 0.02,
      errors: { byStatus: { '429': 3, '503': 15, '0': 2 }, texts: ['context deadline exceeded'] },
    });
    const clean = step(1, 50, { errors: { byStatus: {}, texts: [] } });
    const rows = markdown(report([clean, failing, step(2, 100)]), 'c.svg')
      .split('\n')
      .filter((line) => /^\| [12] \| (50|100) \|/.test(line));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('| none |');
    expect(rows[1]).toContain('| 503 × 15, 429 × 3, no answer × 2 |');
    // Errors by status, then the stopped-ladder cell: both empty.
    expect(rows[2]).toMatch(/\| 1\.00 \| {2}\| {2}\|$/);
    expect(markdown(report([step(1, 50)]), 'c.svg')).not.toContain('errors by status');
  });
});

describe('describeErrorStatuses', () => {
  it('names each status with its count, largest first, and "no answer" for status 0', () => {
    expect(describeErrorStatuses({ '503': 1, '0': 7, '400': 0 })).toBe('no answer × 7, 503 × 1');
    expect(describeErrorStatuses({})).toBe('none');
  });
});

describe('svg', () => {
  it('is one SVG document with both panels, escaped text and no NaN coordinates', () => {
    const text = svg(report([step(1, 50), step(1, 100)]));
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(text.trim().endsWith('</svg>')).toBe(true);
    expect(text).toContain('>Throughput<');
    expect(text).toContain('>Latency<');
    expect(text).toContain('Kafka → Redis e2e p99');
    expect(text).not.toContain('NaN');
  });
});

describe('ticks', () => {
  it('are round numbers', () => {
    expect(linearTicks(0, 800)).toEqual([0, 200, 400, 600, 800]);
    expect(linearTicks(0, 7)).toEqual([0, 2, 4, 6]);
    expect(logTicks(1, 1000)).toEqual([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
    expect([roundDown(3), roundDown(0.15), roundUp(1065), roundUp(200), roundUp(7)]).toEqual([
      2, 0.1, 2000, 200, 10,
    ]);
  });
});

describe('comparison', () => {
  const grpc = report([step(1, 50), step(1, 100), step(2, 100)]);
  const http: BenchReport = {
    ...report([
      step(1, 100, {
        http: { mean: 5, p50: 6, p90: 8, p95: 9, p99: 40, max: 90 },
        processes: {
          'edge-api': { cpuCores: 0.3, rssMaxMb: 200, hwmMb: 210 },
          'grpc-ingest': { cpuCores: 0.2, rssMaxMb: 200, hwmMb: 210 },
        },
      }),
      step(1, 200),
    ]),
    settings: { ...grpc.settings, ingest: 'http' },
  };

  it('labels each run by its transport and replicas', () => {
    expect(runLabel(grpc)).toBe('gRPC');
    expect(runLabel(http)).toBe('plain HTTP/JSON');
    expect(runLabel({ ...grpc, settings: { ...grpc.settings, replicas: 2 } })).toBe(
      'gRPC, 2 edges + 2 ingests',
    );
  });

  it('compares only the rates both runs measured, each cell A → B with the ratio of their medians', () => {
    const text = comparison(grpc, http, ['a-run', 'b-run']);
    expect(text).toContain('# tandem bench — gRPC (A) vs plain HTTP/JSON (B)');
    expect(text).toContain('[a-run](a-run.md)');
    expect(text).toContain('| 100 msg/s |');
    expect(text).not.toContain('50 msg/s');
    expect(text).not.toContain('200 msg/s');
    // HTTP p99 over the repeats of A: median of 10 and 20 = 15; B: 40.
    expect(text).toContain('| HTTP p99 ms | 15.0 → 40.0 (×2.67) |');
    expect(text).toContain('| HTTP p50 ms | 4.0 → 6.0 (×1.50) |');
    // CPU sums a service's processes; a service A did not measure is 0 there.
    expect(text).toContain('| edge-api CPU (cores) | 0.25 → 0.30 (×1.20) |');
    expect(text).toContain('| grpc-ingest CPU (cores) | 0.00 → 0.20 (–) |');
  });

  it("names batches and the services' extra environment, and compares CPU per message between version-2 runs", () => {
    const batch: BenchReport = {
      ...grpc,
      version: 2,
      settings: {
        ...grpc.settings,
        path: 'batch',
        batchSize: 100,
        serviceEnv: { KAFKA_CLIENT: 'platformatic' },
      },
    };
    expect(runLabel(batch)).toBe('gRPC, batches of 100, KAFKA_CLIENT=platformatic');
    // edge-api at 0.25 core: 5000 µs per message at 50 msg/s, 2500 at 100.
    expect(comparison(batch, batch, ['a', 'b'])).toContain(
      "| tandem's services CPU µs/msg | 5000 → 5000 (×1.00) | 2500 → 2500 (×1.00) |",
    );
    expect(comparison(grpc, http, ['a', 'b'])).not.toContain('µs/msg');
  });

  it('says so when the runs have no rate in common', () => {
    expect(comparison(report([step(1, 50)]), report([step(1, 60)]), ['a', 'b'])).toContain(
      'no offered rate in common',
    );
  });
});

describe('a version-2 report', () => {
  const usage = (edge: number, kafka: number, vegeta: number) => ({
    'edge-api': { cpuCores: edge, rssMaxMb: 150, hwmMb: 160 },
    kafka: { cpuCores: kafka, rssMaxMb: 600, hwmMb: 700 },
    vegeta: { cpuCores: vegeta, rssMaxMb: 40, hwmMb: 40 },
  });
  const v2 = (steps: StepResult[], overrides: Partial<BenchReport['settings']> = {}): BenchReport => ({
    ...report(steps),
    version: 2,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryGb: 8,
      kernel: '6.1',
      node: 'v24',
      generator: 'vegeta v12.13.0',
    },
    settings: {
      ...report(steps).settings,
      processes: [
        { name: 'edge-api', kind: 'service' },
        { name: 'kafka', kind: 'server' },
        { name: 'vegeta', kind: 'load' },
      ],
      path: 'single',
      batchSize: 1,
      serviceEnv: { KAFKA_CLIENT: 'platformatic' },
      ...overrides,
    },
    references: {
      bareHono: {
        rate: 1000,
        seconds: 5,
        connections: 50,
        requests: 5000,
        errors: 0,
        cpuCores: { 'bare-hono': 1 },
      },
      rabbitmq: { rate: 400, seconds: 5, window: 100, messages: 2000, cpuCores: { rabbitmq: 0.8 } },
    },
  });
  const steps = [
    step(1, 50, { processes: usage(0.1, 0.05, 0.01) }),
    // 100 msg/s: one error is enough not to be "sustained" in version 2.
    step(1, 100, { processes: usage(0.9, 0.2, 0.03), errorRate: 0.001 }),
  ];

  it('takes "sustained" strictly: a step with any error does not hold', () => {
    expect(sustainedRate(report(steps))).toBe(100);
    expect(sustainedRate(v2(steps))).toBe(50);
  });

  it('gives CPU per message, per process and summed, beside the rates', () => {
    const s = steps[0] as StepResult;
    expect(cpuMicrosPerMessage(s, 'edge-api')).toBeCloseTo(2000);
    expect(cpuMicrosPerMessage(s, 'nobody')).toBeNull();
    expect(servicesMicrosPerMessage(v2(steps), s)).toBeCloseTo(2000);
    const text = markdown(v2(steps), 'c.svg');
    expect(text).toContain('## CPU per message (µs)');
    expect(text).toContain('| edge-api | 2000 | 9000 |');
    expect(text).toContain('| vegeta (load) | 200 | 300 |');
    expect(text).toContain("| **tandem's services** | 2000 | 9000 |");
    expect(text).toContain('| **services + stack** | 3000 | 11000 |');
  });

  it('names the process that saturates at the knee, and what would move it when it is tandem’s', () => {
    expect(knee(v2(steps))).toMatchObject({ rate: 100, sustained: false, process: 'edge-api', cores: 0.9 });
    const text = markdown(v2(steps), 'c.svg');
    expect(text).toContain(
      'At the knee, 100 msg/s (the first rate not sustained), the busiest process was **edge-api**',
    );
    expect(text).toContain(
      "one of tandem's own services; what would move it: fewer, larger calls to the ingest",
    );
    // The generator as the busiest: the run measured the generator, not tandem.
    const generatorBound = [step(1, 50, { processes: usage(0.1, 0.05, 0.95) })];
    expect(markdown(v2(generatorBound), 'c.svg')).toContain('the load generator itself');
  });

  it('from version 3, also names the busiest process at the last sustained rate', () => {
    // The failed step collapsed onto the generator; the step before it shows what limited tandem.
    const collapsed = [
      step(1, 50, { processes: usage(0.4, 0.05, 0.1) }),
      step(1, 100, { processes: usage(0.3, 0.2, 1.2), errorRate: 0.3 }),
    ];
    const v3 = { ...v2(collapsed), version: 3 as const };
    expect(knee(v3)).toMatchObject({
      rate: 100,
      process: 'vegeta',
      lastSustained: { rate: 50, process: 'edge-api', cores: 0.4 },
    });
    const text = markdown(v3, 'c.svg');
    expect(text).toContain('the busiest process was **vegeta** at 1.20 core');
    expect(text).toContain(
      "- At the last sustained rate, 50 msg/s, the busiest process was **edge-api** at 0.40 core (8000 µs of CPU per message) — one of tandem's own services",
    );
    // Version 2 reports re-render as they were written.
    expect(markdown(v2(collapsed), 'c.svg')).not.toContain('At the last sustained rate');
    // Nothing sustained: no such line.
    const none = [step(1, 50, { processes: usage(0.4, 0.05, 0.1), errorRate: 0.5 })];
    expect(knee({ ...v2(none), version: 3 })?.lastSustained).toBeUndefined();
  });

  it('reports the references and tandem as a share of them, by path', () => {
    const single = markdown(v2(steps), 'c.svg');
    expect(single).toContain(
      "a bare Hono app (JSON parse, 202) served 1,000 req/s; tandem's sustained single-message rate is **5.0 %** of it",
    );
    expect(single).toContain('## References');
    expect(single).toContain('`KAFKA_CLIENT=platformatic`');
    expect(single).toContain('vegeta v12.13.0 open model');
    const batch = markdown(v2(steps, { path: 'batch', batchSize: 100 }), 'c.svg');
    expect(batch).toContain('POST /input/batch, 100 messages per request');
    expect(batch).toContain("tandem's sustained batched rate is **12.5 %** of it");
    // Every rate held: the ladder did not reach tandem's limit, so the share is a lower bound.
    const held = [step(1, 50, { processes: usage(0.1, 0.05, 0.01) })];
    expect(markdown(v2(held), 'c.svg')).toContain('single-message rate is at least **5.0 %** of it');
  });

  describe("from version 4, with the bare Hono app at the ladder's rates", () => {
    const atRate = (rate: number, micros: number, p99: number): BareHonoAtRate => ({
      rate,
      seconds: 5,
      achievedRate: rate,
      requests: rate * 5,
      errors: 0,
      http: { mean: 0.8, p50: 0.7, p90: 1, p95: 1.2, p99, max: 9 },
      cpuCores: { 'bare-hono': (micros * rate) / 1e6, vegeta: 0.02 },
      cpuMicrosPerRequest: micros,
      machine: { cores: 2, busyCores: 0.3, otherCores: 0.01, loadAverage1m: 1 },
    });
    const v4 = (steps: StepResult[], overrides: Partial<BenchReport['settings']> = {}): BenchReport => {
      const base = v2(steps, overrides);
      return {
        ...base,
        version: 4,
        references: {
          ...base.references,
          bareHonoAtRates: {
            seconds: 5,
            warmupSeconds: 3,
            nodeOptions: '--max-semi-space-size=8',
            rates: [atRate(50, 1500, 1.6), atRate(100, 700, 4.3)],
          },
        },
      };
    };
    // 50 msg/s held with the edge busiest (0.4 core: 8000 µs a message); 100 collapsed onto the generator.
    const collapsed = [
      step(1, 50, { processes: usage(0.4, 0.05, 0.1) }),
      step(1, 100, { processes: usage(0.3, 0.2, 1.2), errorRate: 0.3 }),
    ];

    it("adds the app's CPU per request to the CPU per message table, as a reference", () => {
      const text = markdown(v4(steps), 'c.svg');
      expect(text).toContain('| _bare Hono app, per request (reference, not tandem)_ | 1500 | 700 |');
      expect(text).toContain('The last row is not tandem: a bare Hono app driven at the same rates');
    });

    it("sets its HTTP p50 / p99 beside tandem's at each rate", () => {
      const text = markdown(v4(steps), 'c.svg');
      expect(text).toContain('| counted/s RabbitMQ→Valkey | bare Hono app p50 / p99 ms (reference) |');
      expect(text).toMatch(/\| 50 \| 50\.0 \| .* \| 100\.0 \| 100\.0 \| 0\.7 \/ 1\.6 \|\n/);
      expect(text).toMatch(/\| 100 \| 100\.0 \| .* \| 0\.7 \/ 4\.3 \|\n/);
    });

    it('lists what was measured at each rate under References', () => {
      const text = markdown(v4(steps), 'c.svg');
      expect(text).toContain(
        "The bare Hono app at the ladder's rates: open model, the same generator and request bodies as the ladder, 5 s at each rate after a 3 s warm-up at the first, with the services' NODE_OPTIONS (`--max-semi-space-size=8`).",
      );
      expect(text).toContain('| 50 | 50.0 | 0 | 0.7 | 1.6 | 9.0 | 0.07 | 0.02 | 1500 | 0.30 |');
      // The closed-loop ceiling and RabbitMQ stay.
      expect(text).toContain('| bare Hono app: POST, JSON parse, 202 | 1,000 req/s |');
    });

    it("with the brokers alone at the same rates, sets their confirm latency beside tandem's and lists it", () => {
      const latency = (p50: number) => ({ p50, p99: p50 * 3, max: p50 * 5 });
      const base = v4(steps);
      const withBrokers: BenchReport = {
        ...base,
        references: {
          ...base.references,
          brokersAtRates: {
            seconds: 5,
            warmupSeconds: 3,
            kafkaClient: 'platformatic',
            rates: [50, 100].map((rate) => ({
              rate,
              seconds: 5,
              groupEveryMs: 10,
              groups: 500,
              messages: rate * 5,
              kafka: latency(1),
              rabbitmq: latency(rate / 25),
              both: latency(rate / 20),
            })),
          },
        },
      };
      const text = markdown(withBrokers, 'c.svg');
      expect(text).toContain(
        '| bare Hono app p50 / p99 ms (reference) | brokers alone, both confirmed p50 / p99 ms (reference) |',
      );
      expect(text).toMatch(/\| 50 \| 50\.0 \| .* \| 0\.7 \/ 1\.6 \| 2\.5 \/ 7\.5 \|\n/);
      expect(text).toMatch(/\| 100 \| 100\.0 \| .* \| 0\.7 \/ 4\.3 \| 5\.0 \/ 15\.0 \|\n/);
      expect(text).toContain('The last two columns are not tandem');
      expect(text).toContain("The brokers alone at the ladder's rates:");
      expect(text).toContain('(Kafka client platformatic)');
      expect(text).toContain(
        '| 100 | 500 of 1 every 10.0 ms | 5.0 / 15.0 / 25.0 | 1.0 / 3.0 / 5.0 | 4.0 / 12.0 / 20.0 |',
      );
      // Without it (every earlier report), the table keeps its one reference column.
      expect(markdown(v4(steps), 'c.svg')).not.toContain('brokers alone');
    });

    it("says how much of the edge's CPU per message is the bare HTTP floor at the last sustained rate", () => {
      expect(markdown(v4(collapsed), 'c.svg')).toContain(
        "- At the last sustained rate, 50 msg/s, the busiest process was **edge-api** at 0.40 core (8000 µs of CPU per message) — one of tandem's own services; what would move it: fewer, larger calls to the ingest (concurrent requests coalesced into one call), a cheaper HTTP path per request, or `POST /input/batch`. Of its 8000 µs, 1500 are what a bare Hono app (JSON parse, 202) costs per request at this rate on this machine, Node's HTTP floor; the rest, 6500 µs, is what the edge does beyond serving HTTP.\n",
      );
      // Every rate held: the knee line is about the highest rate, a sustained one.
      const held = [
        step(1, 50, { processes: usage(0.1, 0.05, 0.01) }),
        step(1, 100, { processes: usage(0.2, 0.05, 0.01) }),
      ];
      expect(markdown(v4(held), 'c.svg')).toContain(
        "Of its 2000 µs, 700 are what a bare Hono app (JSON parse, 202) costs per request at this rate on this machine, Node's HTTP floor; the rest, 1300 µs,",
      );
      // The floor measured no lower than the edge (noise): said so, not as a negative rest.
      const cheapEdge = [step(1, 50, { processes: usage(0.05, 0.01, 0.01) })];
      expect(markdown(v4(cheapEdge), 'c.svg')).toContain(
        "the busiest process was **edge-api** at 0.05 core (1000 µs of CPU per message) — one of tandem's own services; what would move it: fewer, larger calls to the ingest (concurrent requests coalesced into one call), a cheaper HTTP path per request, or `POST /input/batch`. A bare Hono app (JSON parse, 202) costs 1500 µs per request at this rate on this machine, no less than the edge's 1000: within noise, the edge's cost is Node's HTTP floor. The machine:",
      );
      // At a failed rate, another process the busiest, or two edges sharing the rate: nothing to set it against.
      const edgeAtKnee = markdown(v4(steps), 'c.svg');
      expect(edgeAtKnee).toContain(
        'At the knee, 100 msg/s (the first rate not sustained), the busiest process was **edge-api**',
      );
      expect(edgeAtKnee).not.toContain('Of its 9000 µs');
      expect(edgeAtKnee).toContain('Of its 2000 µs, 1500 are');
      const kafkaBusiest = [step(1, 50, { processes: usage(0.1, 0.5, 0.01) })];
      expect(markdown(v4(kafkaBusiest), 'c.svg')).not.toContain('Of its');
      const twoEdges = { ...v4(collapsed), settings: { ...v4(collapsed).settings, replicas: 2 } };
      expect(markdown(twoEdges, 'c.svg')).not.toContain('Of its');
    });

    it('renders a version-4 run without the floor (no references) as version 3 does, and compares', () => {
      const without = { ...v4(collapsed), references: undefined };
      expect(markdown(without, 'c.svg')).toBe(markdown({ ...without, version: 3 }, 'c.svg'));
      expect(comparison(v4(collapsed), v4(collapsed), ['a', 'b'])).toContain('| HTTP p99 ms |');
    });
  });

  it('leaves version-1 reports as they were: no new section', () => {
    const text = markdown(report(steps), 'c.svg');
    expect(text).not.toContain('CPU per message');
    expect(text).not.toContain('## References');
    expect(text).toContain('k6 v1.8.1');
  });
});
