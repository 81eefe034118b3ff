import { describe, expect, it } from 'vitest';
import { BrokerUnavailableError, createMemoryBroker, memoryFeatures } from '../src/index.ts';
import { brokerConformance, collect, makeEnvelopes, waitFor } from './broker.case.ts';
import { suffix } from './support.ts';

const broker = createMemoryBroker();

brokerConformance({
  features: memoryFeatures,
  async open() {
    const queue = suffix();
    return {
      publisher: async () => ({ publisher: broker.publisher({ queue }) }),
      subscriber: async ({ maxBatch }) => broker.subscriber({ queue, maxBatch, retryDelayMs: 10 }),
      dispose: async () => {},
    };
  },
});

describe('memory broker', () => {
  it('behaves as a broker that is down while unavailable, and resumes after', async () => {
    const memory = createMemoryBroker();
    const publisher = memory.publisher();
    const subscriber = memory.subscriber({ maxBatch: 10 });
    const seen = collect();
    await subscriber.start(seen.handler);
    await publisher.publish(makeEnvelopes(5, 'before'));
    await waitFor(() => seen.distinct.size === 5, 'the first 5 delivered');

    memory.setAvailable(false);
    expect(publisher.isReady()).toBe(false);
    expect(subscriber.isReady()).toBe(false);
    await expect(publisher.publish(makeEnvelopes(1, 'down'))).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(subscriber.backlog()).rejects.toBeInstanceOf(BrokerUnavailableError);

    memory.setAvailable(true);
    await publisher.publish(makeEnvelopes(5, 'after'));
    await waitFor(() => seen.distinct.size === 10, 'the next 5 delivered');
    expect(memory.published()).toHaveLength(10);
    await subscriber.close();
  });

  it('shares a queue between its subscribers', async () => {
    const memory = createMemoryBroker();
    const first = collect();
    const second = collect();
    const a = memory.subscriber({ maxBatch: 5 });
    const b = memory.subscriber({ maxBatch: 5 });
    await a.start(async (batch) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      await first.handler(batch);
    });
    await b.start(second.handler);
    await memory.publisher().publish(makeEnvelopes(100, 'shared'));
    await waitFor(() => first.distinct.size + second.distinct.size === 100, 'all 100 delivered once');
    expect(first.all.length).toBeGreaterThan(0);
    expect(second.all.length).toBeGreaterThan(0);
    await Promise.all([a.close(), b.close()]);
  });
});
