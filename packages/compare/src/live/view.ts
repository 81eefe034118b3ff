/**
 * What the live page shows, made from successive snapshots: the snapshot's readings as they are, plus what only a
 * series of them gives — messages counted per second (from each store's total), the backlog over the last minutes,
 * and end-to-end latency p50/p99 over a window (cut out of the consumers' cumulative HdrHistograms: the latest
 * reading minus the one from the window's start, so that a consumer's `/latency` is only read, never reset).
 */

import type { Counts } from '@tandem/counting';
import { decodeFromCompressedBase64, type Histogram } from 'hdr-histogram-js';
import {
  type LatencyReading,
  type PipelineId,
  pipelineInfo,
  type Reading,
  type Snapshot,
} from '../snapshot.ts';

export interface LatencyWindow {
  /** Where the window starts (Unix ms): `windowMs` ago, or later if the consumer started or was reset since. */
  from: number;
  count: number;
  p50: number | null;
  p99: number | null;
}

export interface LatencyPoint {
  at: number;
  p50: number | null;
  p99: number | null;
}

export interface PipelineView {
  id: PipelineId;
  label: string;
  broker: string;
  store: string;
  consumerName: string;
  backlogWhat: string;
  /** The store's total, or why it could not be read. */
  total: Reading<number>;
  /** Messages counted per second over the last few seconds; null while unknown. */
  perSecond: number | null;
  /** One value a second, oldest first (null where the store did not answer). */
  perSecondHistory: (number | null)[];
  backlog: Reading<number>;
  backlogHistory: (number | null)[];
  deadLetters: Reading<number>;
  /** The consumer's counters by outcome (counted, duplicate, poison), or why it could not be read. */
  consumer: Reading<Record<string, number>>;
  latency: LatencyWindow | null;
  /** p50/p99 of each `latencyStepMs` step, oldest first. */
  latencyHistory: LatencyPoint[];
}

export interface CountryRow {
  country: string;
  /** null: that store is down. */
  redis: number | null;
  valkey: number | null;
}

export interface LiveView {
  at: number;
  intervalMs: number;
  windowMs: number;
  pipelines: PipelineView[];
  countries: CountryRow[];
  /** Rows (any section) where the stores differ; null while one is down. */
  differences: number | null;
  edge: Snapshot['edge'];
  ingest: Snapshot['ingest'];
}

export interface ViewOptions {
  /** The latency window. Default 5 minutes. */
  windowMs?: number;
  /** The latency history's step. Default 10 s. */
  latencyStepMs?: number;
  /** How many per-second points the charts keep. Default 120. */
  historyPoints?: number;
  /** The rate is taken over this long. Default 5 s. */
  rateOverMs?: number;
}

interface LatencySample {
  at: number;
  from: number;
  histogram: string;
}

const decode = (encoded: string): Histogram => decodeFromCompressedBase64(encoded);

/** The distribution recorded between two cumulative readings of the same interval (same `from`). */
function between(base: LatencySample | undefined, latest: LatencySample): Histogram {
  const histogram = decode(latest.histogram);
  if (base && base !== latest) histogram.subtract(decode(base.histogram));
  return histogram;
}

const percentiles = (histogram: Histogram) => {
  const count = histogram.totalCount;
  return {
    count,
    p50: count ? histogram.getValueAtPercentile(50) : null,
    p99: count ? histogram.getValueAtPercentile(99) : null,
  };
};

class PipelineSeries {
  totals: { at: number; total: number | null }[] = [];
  backlogs: (number | null)[] = [];
  rates: (number | null)[] = [];
  latency: LatencySample[] = [];
  latencyHistory: LatencyPoint[] = [];
  lastStep: LatencySample | undefined;
}

export class LiveViewBuilder {
  readonly windowMs: number;
  readonly latencyStepMs: number;
  readonly historyPoints: number;
  readonly rateOverMs: number;
  readonly #series = new Map<PipelineId, PipelineSeries>(
    pipelineInfo.map((p) => [p.id, new PipelineSeries()]),
  );

  constructor(options: ViewOptions = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.latencyStepMs = options.latencyStepMs ?? 10_000;
    this.historyPoints = options.historyPoints ?? 120;
    this.rateOverMs = options.rateOverMs ?? 5_000;
  }

  /** Takes the next snapshot in and returns the view of everything seen so far. */
  add(snapshot: Snapshot, intervalMs: number): LiveView {
    const pipelines = pipelineInfo.map((info) => {
      const reading = snapshot.pipelines[info.id];
      const series = this.#series.get(info.id) as PipelineSeries;
      const total: Reading<number> = reading.store.ok
        ? { ok: true, value: reading.store.value.total }
        : { ok: false, error: reading.store.error };
      const perSecond = this.#rate(series, snapshot.at, total.ok ? total.value : null);
      push(series.rates, perSecond, this.historyPoints);
      push(series.backlogs, reading.backlog.ok ? reading.backlog.value : null, this.historyPoints);
      const consumer: Reading<Record<string, number>> = reading.consumer.ok
        ? { ok: true, value: reading.consumer.value.messages }
        : { ok: false, error: reading.consumer.error };
      const latency = reading.consumer.ok
        ? this.#latency(series, snapshot.at, reading.consumer.value.latency)
        : null;
      return {
        id: info.id,
        label: info.label,
        broker: info.broker,
        store: info.store,
        consumerName: info.consumer,
        backlogWhat: info.backlog,
        total,
        perSecond,
        perSecondHistory: [...series.rates],
        backlog: reading.backlog,
        backlogHistory: [...series.backlogs],
        deadLetters: reading.deadLetters,
        consumer,
        latency,
        latencyHistory: [...series.latencyHistory],
      };
    });
    return {
      at: snapshot.at,
      intervalMs,
      windowMs: this.windowMs,
      pipelines,
      countries: countries(
        snapshot.pipelines['kafka-redis'].store,
        snapshot.pipelines['rabbitmq-valkey'].store,
      ),
      differences: snapshot.comparison ? snapshot.comparison.differences.length : null,
      edge: snapshot.edge,
      ingest: snapshot.ingest,
    };
  }

  #rate(series: PipelineSeries, at: number, total: number | null): number | null {
    series.totals.push({ at, total });
    while (series.totals.length > 2 && (series.totals[1] as { at: number }).at <= at - this.rateOverMs) {
      series.totals.shift();
    }
    const first = series.totals[0] as { at: number; total: number | null };
    if (total === null || first.total === null || first.at === at) return null;
    // A total that went down is a store that was emptied: no rate to tell until the next reading.
    if (total < first.total) {
      series.totals = [{ at, total }];
      return null;
    }
    return ((total - first.total) * 1000) / (at - first.at);
  }

  #latency(series: PipelineSeries, at: number, reading: LatencyReading): LatencyWindow {
    const latest: LatencySample = { at, from: reading.from, histogram: reading.histogram };
    // A new interval (the consumer restarted, or a bench reset its histogram): what came before is another one.
    if (series.latency.length > 0 && series.latency.at(-1)?.from !== latest.from) {
      series.latency = [];
      series.lastStep = undefined;
    }
    series.latency.push(latest);
    const start = at - this.windowMs;
    // Keep one sample at or before the window's start: the base the window is cut from.
    while (series.latency.length > 2 && (series.latency[1] as LatencySample).at <= start)
      series.latency.shift();
    const oldest = series.latency[0] as LatencySample;
    let window: LatencyWindow;
    if (oldest.at <= start && oldest !== latest) {
      window = { from: oldest.at, ...percentiles(between(oldest, latest)) };
    } else {
      // Not yet watched for a whole window: all the consumer recorded since it started (or was reset), as it is.
      window = { from: latest.from, ...percentiles(decode(latest.histogram)) };
    }
    if (!series.lastStep) series.lastStep = latest;
    else if (at - series.lastStep.at >= this.latencyStepMs) {
      const step = percentiles(between(series.lastStep, latest));
      series.latencyHistory.push({ at, p50: step.p50, p99: step.p99 });
      const keep = Math.ceil(this.windowMs / this.latencyStepMs);
      if (series.latencyHistory.length > keep) series.latencyHistory.shift();
      series.lastStep = latest;
    }
    return window;
  }
}

function push<T>(list: T[], value: T, max: number): void {
  list.push(value);
  if (list.length > max) list.shift();
}

/** Every country either store has, sorted by the larger count; a store that is down has null, not 0. */
export function countries(redis: Reading<Counts>, valkey: Reading<Counts>): CountryRow[] {
  const names = new Set([
    ...Object.keys(redis.ok ? redis.value.byCountry : {}),
    ...Object.keys(valkey.ok ? valkey.value.byCountry : {}),
  ]);
  const rows = [...names].map((country) => ({
    country,
    redis: redis.ok ? (redis.value.byCountry[country] ?? 0) : null,
    valkey: valkey.ok ? (valkey.value.byCountry[country] ?? 0) : null,
  }));
  const size = (row: CountryRow) => Math.max(row.redis ?? 0, row.valkey ?? 0);
  return rows.sort((a, b) => size(b) - size(a) || a.country.localeCompare(b.country));
}
