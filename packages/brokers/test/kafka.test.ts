import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createKafkaPublisher,
  createKafkaSubscriber,
  ensureKafkaTopic,
  kafkaFeatures,
  kafkaGroupBacklog,
  removeKafkaResources,
} from '../src/index.ts';
import { brokerConformance } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';

const brokers = required('KAFKA_BROKERS').split(',');

brokerConformance({
  features: kafkaFeatures,
  async open() {
    const name = suffix();
    const topic = `brokers-test-${name}`;
    const groupId = `brokers-test-${name}`;
    const clientId = `brokers-test-${name}`;
    await ensureKafkaTopic({ brokers, topic, partitions: 3, logger });
    return {
      async publisher() {
        const publisher = await createKafkaPublisher({
          brokers,
          topic,
          clientId,
          lingerMs: 5,
          maxBatch: 500,
          logger,
        });
        return { publisher, requests: () => publisher.stats().produceRequests };
      },
      subscriber: ({ maxBatch }) =>
        createKafkaSubscriber({
          brokers,
          topic,
          groupId,
          clientId,
          maxBatch,
          maxWaitMs: 100,
          retryDelayMs: 10,
          logger,
        }),
      backlogFromOutside: () => kafkaGroupBacklog({ brokers, topic, groupId, logger }),
      async dispose() {
        await removeKafkaResources({ brokers, topics: [topic], groupIds: [groupId], logger });
      },
    };
  },
});

describe('kafka subscriber', () => {
  it('hands the partitions of one fetch to the handler at once, each partition in order, each record once', async () => {
    const name = suffix();
    const topic = `brokers-test-${name}`;
    await ensureKafkaTopic({ brokers, topic, partitions: 3, logger });
    const publisher = await createKafkaPublisher({ brokers, topic, clientId: name, lingerMs: 5, logger });
    const sent = Array.from({ length: 60 }, (_, i) => ({ id: `c-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    const subscriber = await createKafkaSubscriber({ brokers, topic, groupId: name, clientId: name, logger });
    let running = 0;
    let mostAtOnce = 0;
    const received: { id: string | undefined; stream: string | undefined }[] = [];
    await subscriber.start(async (deliveries) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      // Long enough that a second partition's batch, if handed over concurrently, arrives meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 300));
      received.push(...deliveries.map(({ id, stream }) => ({ id, stream })));
      running -= 1;
    });
    const deadline = Date.now() + 30_000;
    while (received.length < sent.length && Date.now() < deadline) await sleep(100);
    await subscriber.close();
    await removeKafkaResources({ brokers, topics: [topic], groupIds: [name], logger });

    expect(received.map((r) => r.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(new Set(received.map((r) => r.stream)).size).toBe(3);
    expect(mostAtOnce).toBeGreaterThan(1);
    for (const stream of new Set(received.map((r) => r.stream))) {
      const order = received.filter((r) => r.stream === stream).map((r) => Number(r.id?.slice(2)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  }, 60_000);

  it('commits handled offsets on its timer and on close, never per chunk', async () => {
    const name = suffix();
    const topic = `brokers-test-${name}`;
    await ensureKafkaTopic({ brokers, topic, partitions: 3, logger });
    const publisher = await createKafkaPublisher({ brokers, topic, clientId: name, lingerMs: 5, logger });
    await publisher.publish(
      Array.from({ length: 30 }, (_, i) => ({ id: `t-${i}`, payload: Buffer.from('x') })),
    );
    await publisher.close();
    const lag = () => kafkaGroupBacklog({ brokers, topic, groupId: name, logger });

    // A timer too slow to fire during the test: whatever gets committed, close() committed.
    const subscriber = await createKafkaSubscriber({
      brokers,
      topic,
      groupId: name,
      clientId: name,
      commitIntervalMs: 600_000,
      logger,
    });
    let handled = 0;
    await subscriber.start(async (deliveries) => {
      handled += deliveries.length;
    });
    const deadline = Date.now() + 30_000;
    while (handled < 30 && Date.now() < deadline) await sleep(100);
    await sleep(500);
    expect(handled).toBe(30);
    expect(await lag()).toBe(30);
    await subscriber.close();
    expect(await lag()).toBe(0);

    await removeKafkaResources({ brokers, topics: [topic], groupIds: [name], logger });
  }, 60_000);
});

describe('kafkaGroupBacklog', () => {
  it('says that a topic does not exist, instead of retrying offset requests for it', async () => {
    const topic = `brokers-test-missing-${suffix()}`;
    await expect(kafkaGroupBacklog({ brokers, topic, groupId: topic, logger })).rejects.toThrow(
      `topic ${topic} does not exist (yet)`,
    );
  });
});
