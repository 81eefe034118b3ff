import { build, encodeIntoCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { formatSnapshot } from '../src/format.ts';
import { LiveViewBuilder } from '../src/live/view.ts';
import { samples, sumBy } from '../src/metrics-text.ts';
import { guarded, type LatencyReading, type Snapshot } from '../src/snapshot.ts';

const metrics = `# HELP consumer_messages_total Deliveries by outcome
# TYPE consumer_messages_total counter
consumer_messages_total{pipeline="kafka-redis",outcome="counted"} 40
consumer_messages_total{pipeline="kafka-redis",outcome="duplicate"} 2
consumer_messages_total{pipeline="other",outcome="counted"} 7
consumer_messages_total_created 1
http_requests_total{method="POST",route="/input",status="202"} 10
http_requests_total{method="POST",route="/input/batch",status="202"} 5
http_requests_total{method="POST",route="/input",status="400"} 1
http_requests_total{method="GET",route="/ready",status="200"} 99
`;

describe('metrics text', () => {
  it('reads the samples of one metric exactly, with their labels', () => {
    expect(samples(metrics, 'consumer_messages_total')).toHaveLength(3);
    expect(sumBy(metrics, 'consumer_messages_total', 'outcome', (l) => l.pipeline === 'kafka-redis')).toEqual(
      {
        counted: 40,
        duplicate: 2,
      },
    );
    expect(
      sumBy(metrics, 'http_requests_total', 'status', (l) => l.route?.startsWith('/input') ?? false),
    ).toEqual({
      '202': 15,
      '400': 1,
    });
  });
});

describe('guarded', () => {
  it('answers a reading, a failure with its message, and gives up on a source that does not answer', async () => {
    expect(await guarded(async () => 3, 100)()).toEqual({ ok: true, value: 3 });
    expect(await guarded(() => Promise.reject(new Error('ECONNREFUSED')), 100)()).toEqual({
      ok: false,
      error: 'ECONNREFUSED',
    });
    let calls = 0;
    const slow = guarded(() => {
      calls += 1;
      return new Promise<number>((resolve) => setTimeout(() => resolve(1), 300));
    }, 20);
    expect(await slow()).toEqual({ ok: false, error: 'no answer within 20 ms' });
    // The call in flight is joined, not started again.
    await slow();
    expect(calls).toBe(1);
  });

  it('stands the last answer in for a slow one while that is within its bound', async () => {
    let delay = 0;
    let value = 0;
    const read = guarded(
      () => {
        value += 1;
        const answer = value;
        return new Promise<number>((resolve) => setTimeout(() => resolve(answer), delay));
      },
      300,
      20,
    );
    expect(await read()).toEqual({ ok: true, value: 1 });
    delay = 100;
    // Slower than the wait: the last answer, at once; the fresh one once it came.
    expect(await read()).toEqual({ ok: true, value: 1 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await read()).toMatchObject({ ok: true });
    delay = 1000;
    await new Promise((resolve) => setTimeout(resolve, 120));
    // A call that will take 1 s: the last answer stands in at first...
    expect(await read()).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 350));
    // ...but past the bound, a call still out is not answering, whatever came before.
    expect(await read()).toEqual({ ok: false, error: 'no answer within 300 ms' });
  });
});

const counts = (byCountry: Record<string, number>) => ({
  total: Object.values(byCountry).reduce((a, b) => a + b, 0),
  byCountry,
  byWeather: {},
  byCountryWeather: {},
});

function latency(values: number[], from = 0): LatencyReading {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000,
    numberOfSignificantValueDigits: 3,
  });
  for (const value of values) histogram.recordValue(value);
  return {
    from,
    to: 0,
    count: values.length,
    p50: histogram.getValueAtPercentile(50),
    p99: histogram.getValueAtPercentile(99),
    max: histogram.maxValue,
    histogram: encodeIntoCompressedBase64(histogram),
  };
}

function snapshot(
  at: number,
  options: { redis?: Record<string, number> | null; valkey?: Record<string, number>; latencies?: number[] },
): Snapshot {
  const redis =
    options.redis === null
      ? { ok: false as const, error: 'connect ECONNREFUSED 127.0.0.1:6379' }
      : { ok: true as const, value: counts(options.redis ?? {}) };
  const valkey = { ok: true as const, value: counts(options.valkey ?? {}) };
  const consumer = {
    ok: true as const,
    value: { messages: { counted: 1 }, latency: latency(options.latencies ?? [], 0) },
  };
  return {
    at,
    pipelines: {
      'kafka-redis': {
        store: redis,
        backlog: { ok: true, value: 0 },
        deadLetters: { ok: true, value: 0 },
        consumer,
      },
      'rabbitmq-valkey': {
        store: valkey,
        backlog: { ok: false, error: 'no answer within 2000 ms' },
        deadLetters: { ok: true, value: 0 },
        consumer: { ok: false, error: 'http://127.0.0.1:9466: ECONNREFUSED' },
      },
    },
    comparison: null,
    edge: { ok: true, value: { answers: { '202': 3 } } },
    ingest: { ok: true, value: { messages: { accepted: 3 } } },
  };
}

describe('the live view', () => {
  it('shows a store that is down as down, never as zero, beside the other store', () => {
    const view = new LiveViewBuilder().add(snapshot(1000, { redis: null, valkey: { GT: 2 } }), 1000);
    const [kafka, rabbit] = view.pipelines;
    expect(kafka?.total).toEqual({ ok: false, error: 'connect ECONNREFUSED 127.0.0.1:6379' });
    expect(rabbit?.total).toEqual({ ok: true, value: 2 });
    expect(view.countries).toEqual([{ country: 'GT', redis: null, valkey: 2 }]);
    expect(rabbit?.backlog.ok).toBe(false);
    expect(rabbit?.latency).toBeNull();
  });

  it('counts per second from the store totals, and sorts countries by size', () => {
    const builder = new LiveViewBuilder({ rateOverMs: 5000 });
    builder.add(snapshot(0, { redis: { GT: 10 }, valkey: { GT: 10 } }), 1000);
    const view = builder.add(snapshot(2000, { redis: { GT: 20, SV: 30 }, valkey: { GT: 12 } }), 1000);
    expect(view.pipelines[0]?.perSecond).toBe(20);
    expect(view.pipelines[1]?.perSecond).toBe(1);
    expect(view.countries.map((row) => row.country)).toEqual(['SV', 'GT']);
  });

  it('cuts the latency window out of cumulative histograms', () => {
    const builder = new LiveViewBuilder({ windowMs: 10_000, latencyStepMs: 5_000 });
    const slow = Array.from({ length: 100 }, () => 500);
    const fast = Array.from({ length: 100 }, () => 5);
    // At first, everything since the consumer started.
    let view = builder.add(snapshot(1_000, { latencies: slow }), 1000);
    expect(view.pipelines[0]?.latency).toMatchObject({ from: 0, count: 100, p50: 500 });
    // Once watched for longer than the window, only what was recorded within it.
    view = builder.add(snapshot(20_000, { latencies: [...slow, ...fast] }), 1000);
    expect(view.pipelines[0]?.latency).toMatchObject({ from: 1_000, count: 100, p50: 5, p99: 5 });
    expect(view.pipelines[0]?.latencyHistory).toEqual([{ at: 20_000, p50: 5, p99: 5 }]);
  });
});

describe('formatSnapshot', () => {
  it('says which store is down instead of comparing', () => {
    const text = formatSnapshot(snapshot(0, { redis: null, valkey: { GT: 1 } }), {
      topic: 'message',
      group: 'kafka-consumer',
      queue: 'message',
    });
    expect(text).toContain('Redis    down (connect ECONNREFUSED 127.0.0.1:6379)');
    expect(text).toContain('the stores cannot be compared while one is down');
    expect(text).toMatch(/RabbitMQ → Valkey\s+unknown \(no answer within 2000 ms\)/);
    expect(text).toMatch(/RabbitMQ → Valkey\s+not answering \(http:\/\/127.0.0.1:9466: ECONNREFUSED\)/);
  });
});
