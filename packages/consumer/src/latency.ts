/**
 * End-to-end latency per message — from the ingest's `acceptedAt` to this consumer having counted it — in an
 * HdrHistogram, served on the metrics port so that a benchmark reads both pipelines' full distributions:
 *
 *   GET  /latency        the distribution since the last reset, as JSON (percentiles and the encoded histogram)
 *   POST /latency/reset  the same, and starts a new interval (nothing recorded between the two is lost)
 *
 * Why beside `consumer_end_to_end_seconds`: Prometheus buckets (…, 5 ms, 10 ms, 25 ms, …) cannot tell a p99 of
 * 12 ms from one of 24 ms; an HdrHistogram keeps 3 significant digits at every scale, and two of them from the
 * same run can be compared and merged exactly.
 *
 * Both ends read the wall clock in whole milliseconds (`acceptedAt` is the ingest's `Date.now()`), so a value is
 * 0–1 ms above the truth, 0.5 ms on average, the same for both pipelines. Across machines the clocks must agree
 * (NTP); on one machine they are the same clock.
 */
import type { RouteHandler } from '@tandem/service';
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export interface LatencySnapshot {
  pipeline: string;
  unit: 'ms';
  /** The interval covered: from the last reset (or start) to now, Unix ms. */
  from: number;
  to: number;
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** The whole histogram, HdrHistogram's compressed base64 encoding (decodeFromCompressedBase64). */
  histogram: string;
}

export interface LatencyRecorder {
  /** Records one message counted at `countedAt` (Unix ms). */
  record(acceptedAt: number, countedAt: number): void;
  /** The distribution since the last reset; with `reset`, also starts a new interval. */
  snapshot(reset?: boolean): LatencySnapshot;
}

export function createLatencyRecorder(pipeline: string, now: () => number = Date.now): LatencyRecorder {
  const newHistogram = (): Histogram =>
    build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: 3 });
  let histogram = newHistogram();
  let from = now();
  return {
    record(acceptedAt, countedAt) {
      // A clock step backwards must not make a negative value (HdrHistogram refuses them).
      histogram.recordValue(Math.max(0, Math.round(countedAt - acceptedAt)));
    },
    snapshot(reset = false) {
      const to = now();
      const h = histogram;
      const empty = h.totalCount === 0;
      const snapshot: LatencySnapshot = {
        pipeline,
        unit: 'ms',
        from,
        to,
        count: h.totalCount,
        min: empty ? 0 : h.getValueAtPercentile(0),
        mean: empty ? 0 : h.mean,
        p50: h.getValueAtPercentile(50),
        p90: h.getValueAtPercentile(90),
        p95: h.getValueAtPercentile(95),
        p99: h.getValueAtPercentile(99),
        p999: h.getValueAtPercentile(99.9),
        max: h.maxValue,
        histogram: encodeIntoCompressedBase64(h),
      };
      if (reset) {
        histogram = newHistogram();
        from = to;
      }
      return snapshot;
    },
  };
}

/** The /latency routes, for the consumer's metrics server. */
export function latencyRoutes(recorder: LatencyRecorder): Record<string, RouteHandler> {
  const answer =
    (reset: boolean): RouteHandler =>
    (_, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(recorder.snapshot(reset)));
    };
  return { 'GET /latency': answer(false), 'POST /latency/reset': answer(true) };
}
