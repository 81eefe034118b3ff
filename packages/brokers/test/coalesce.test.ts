import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createCoalescer } from '../src/coalesce.ts';

function recorder(fail?: (items: number[]) => boolean) {
  const sends: number[][] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (items: number[]) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    sends.push(items);
    await sleep(5);
    inFlight -= 1;
    if (fail?.(items)) throw new Error(`failed ${items.join(',')}`);
  };
  return { sends, send, maxInFlight: () => maxInFlight };
}

describe('createCoalescer', () => {
  it('gathers calls made in the same turn into one send when lingerMs is 0', async () => {
    const { sends, send } = recorder();
    const coalescer = createCoalescer({ maxBatch: 100, lingerMs: 0, send });
    await Promise.all([coalescer.add([1, 2]), coalescer.add([3]), coalescer.add([4, 5, 6])]);
    expect(sends).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('waits lingerMs for more, and sends at once when maxBatch is reached', async () => {
    // Fake timers: the linger is asserted on the clock the coalescer reads, not on a loaded machine's wall time.
    vi.useFakeTimers();
    onTestFinished(() => {
      vi.useRealTimers();
    });
    const sends: number[][] = [];
    const coalescer = createCoalescer({
      maxBatch: 4,
      lingerMs: 50,
      send: async (items: number[]) => {
        sends.push(items);
      },
    });
    const first = coalescer.add([1]);
    await vi.advanceTimersByTimeAsync(10);
    const second = coalescer.add([2]);
    await vi.advanceTimersByTimeAsync(39);
    expect(sends).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([first, second]);
    expect(sends).toEqual([[1, 2]]);

    const overflowing = coalescer.add([3, 4, 5, 6, 7]);
    await vi.advanceTimersByTimeAsync(0);
    expect(sends.slice(1)).toEqual([[3, 4, 5, 6]]);
    await vi.advanceTimersByTimeAsync(49);
    expect(sends.slice(1)).toEqual([[3, 4, 5, 6]]);
    await vi.advanceTimersByTimeAsync(1);
    await overflowing;
    expect(sends.slice(1)).toEqual([[3, 4, 5, 6], [7]]);
  });

  it('keeps one send in flight and sends what gathered meanwhile right after', async () => {
    const { sends, send, maxInFlight } = recorder();
    const coalescer = createCoalescer({ maxBatch: 1000, lingerMs: 0, send });
    const calls = [coalescer.add([0])];
    while (sends.length === 0) await new Promise(setImmediate); // the first send is out
    for (let i = 1; i < 50; i += 1) calls.push(coalescer.add([i]));
    await Promise.all(calls);
    expect(maxInFlight()).toBe(1);
    expect(sends).toEqual([[0], Array.from({ length: 49 }, (_, i) => i + 1)]);
  });

  it("settles each caller with its own batches' outcome", async () => {
    const { send } = recorder((items) => items.includes(3));
    const coalescer = createCoalescer({ maxBatch: 2, lingerMs: 0, send });
    const results = await Promise.allSettled([
      coalescer.add([1, 2]),
      coalescer.add([3]),
      coalescer.add([4, 5]),
    ]);
    // Batches: [1,2] ok, [3,4] fails, [5] ok: the third call shares the failed batch.
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
  });

  it('drain sends what waits without lingering and resolves when all is out', async () => {
    const { sends, send } = recorder();
    const coalescer = createCoalescer({ maxBatch: 10, lingerMs: 10_000, send });
    const pending = coalescer.add([1, 2, 3]);
    expect(coalescer.size).toBe(3);
    await coalescer.drain();
    await pending;
    expect(sends).toEqual([[1, 2, 3]]);
    expect(coalescer.size).toBe(0);
  });
});
