/**
 * What a soak run concludes from its samples: whether each process's memory stayed flat after the warm-up, and
 * the latency and backlog over time. Pure functions over the samples, so the rules are tested without a run.
 */

export interface ProcessSample {
  rssMb: number;
  /** V8 heap in use (Node services only). */
  heapMb?: number;
  /** Event-loop delay p99 over the service's last interval (Node services only). */
  loopDelayP99Ms?: number;
}

export interface Sample {
  /** Seconds since the load began. */
  at: number;
  processes: Record<string, ProcessSample>;
  /** End-to-end latency (accepted → counted) over the interval since the previous sample, per pipeline. */
  e2e: Record<string, { p50: number; p99: number; count: number }>;
  backlog: Record<string, number | null>;
  /** Messages counted so far in each store. */
  counted: Record<string, number>;
}

export interface MemoryVerdict {
  process: string;
  /** Median RSS over the first window after the warm-up, and over the last window. */
  afterWarmupMb: number;
  atEndMb: number;
  peakMb: number;
  growth: number;
  flat: boolean;
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/**
 * RSS growth of each process from the window right after the warm-up to the last window of the run (medians, so a
 * GC's sawtooth or one slow sample does not decide it); flat when it grew less than `maxGrowth`.
 */
export function memoryVerdicts(
  samples: readonly Sample[],
  options: { warmupSeconds: number; windowSeconds: number; maxGrowth: number },
): MemoryVerdict[] {
  const last = samples.at(-1)?.at ?? 0;
  const early = samples.filter(
    (s) => s.at >= options.warmupSeconds && s.at < options.warmupSeconds + options.windowSeconds,
  );
  const late = samples.filter((s) => s.at > last - options.windowSeconds);
  const names = Object.keys(samples[0]?.processes ?? {});
  return names.map((name) => {
    const rss = (of: readonly Sample[]) =>
      of.flatMap((s) => (s.processes[name] ? [s.processes[name].rssMb] : []));
    const afterWarmupMb = median(rss(early));
    const atEndMb = median(rss(late));
    const growth = atEndMb / afterWarmupMb - 1;
    return {
      process: name,
      afterWarmupMb,
      atEndMb,
      peakMb: Math.max(...rss(samples)),
      growth,
      flat: Number.isFinite(growth) && growth < options.maxGrowth,
    };
  });
}
