import { describe, expect, it } from 'vitest';
import { median, memoryVerdicts, type Sample } from '../src/soak/verdict.ts';

const sample = (at: number, rssMb: number): Sample => ({
  at,
  processes: { 'edge-api': { rssMb } },
  e2e: {},
  backlog: {},
  counted: {},
});

describe('memoryVerdicts', () => {
  const options = { warmupSeconds: 60, windowSeconds: 60, maxGrowth: 0.1 };

  it('ignores the warm-up and compares medians of the window after it and of the last window', () => {
    // Warm-up climbs to 100 MB; then a GC sawtooth 95–105 that stays put.
    const samples = [
      ...[0, 15, 30, 45].map((at, i) => sample(at, 40 + 20 * i)),
      ...Array.from({ length: 40 }, (_, i) => sample(60 + 15 * i, i % 2 ? 105 : 95)),
    ];
    const [verdict] = memoryVerdicts(samples, options);
    expect(verdict).toMatchObject({
      process: 'edge-api',
      afterWarmupMb: 100,
      atEndMb: 100,
      peakMb: 105,
      flat: true,
    });
  });

  it('calls a steady climb past 10 % a leak', () => {
    const samples = Array.from({ length: 60 }, (_, i) => sample(15 * i, 100 + i));
    const [verdict] = memoryVerdicts(samples, options);
    expect(verdict?.growth).toBeGreaterThan(0.1);
    expect(verdict?.flat).toBe(false);
  });

  it('is not flat when there is nothing to compare', () => {
    expect(memoryVerdicts([sample(0, 100)], options)[0]?.flat).toBe(false);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
