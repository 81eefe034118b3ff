import { setTimeout as sleep } from 'node:timers/promises';
import { type KafkaSasl, kafkaConnectionFromEnv } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import {
  createKafkaPublisher,
  createKafkaSubscriber,
  ensureKafkaTopic,
  kafkaAdapters,
  kafkaFeatures,
  kafkaGroupBacklog,
  removeKafkaResources,
} from '../src/index.ts';
import { withKafkaAdmin } from '../src/kafka/client.ts';
import { brokerConformance } from './broker.case.ts';
import { kafkaBehaviour } from './kafka.case.ts';
import { testLogger as logger, suffix } from './support.ts';

/** The local stack's broker and its SASL/SCRAM credentials, from `.stack/env`. */
const connection = kafkaConnectionFromEnv();

brokerConformance({
  features: kafkaFeatures,
  async open() {
    const name = suffix();
    const topic = `brokers-test-${name}`;
    const groupId = `brokers-test-${name}`;
    const clientId = `brokers-test-${name}`;
    await ensureKafkaTopic({ ...connection, topic, partitions: 3, logger });
    return {
      async publisher() {
        const publisher = await createKafkaPublisher({
          ...connection,
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
          ...connection,
          topic,
          groupId,
          clientId,
          maxBatch,
          maxWaitMs: 100,
          retryDelayMs: 10,
          logger,
        }),
      backlogFromOutside: () => kafkaGroupBacklog({ ...connection, topic, groupId, logger }),
      async dispose() {
        await removeKafkaResources({ ...connection, topics: [topic], groupIds: [groupId], logger });
      },
    };
  },
});

/** A topic of its own (3 partitions), and a publisher to it. */
async function topicWithPublisher(name: string, lingerMs = 5) {
  const topic = `brokers-test-${name}`;
  await ensureKafkaTopic({ ...connection, topic, partitions: 3, logger });
  const publisher = await createKafkaPublisher({ ...connection, topic, clientId: name, lingerMs, logger });
  return { topic, publisher };
}

describe('kafka subscriber', () => {
  kafkaBehaviour(kafkaAdapters.kafkajs);

  it('hands chunks of the partitions of one fetch to the handler at once, each partition in order, each record once', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(name);
    const sent = Array.from({ length: 60 }, (_, i) => ({ id: `c-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    // Chunks of at most 10: the partitions' chunks cannot all share one call, and the calls run at once.
    const subscriber = await createKafkaSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      maxBatch: 10,
      logger,
    });
    let running = 0;
    let mostAtOnce = 0;
    let largest = 0;
    const received: { id: string | undefined; stream: string | undefined }[] = [];
    await subscriber.start(async (deliveries) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      largest = Math.max(largest, deliveries.length);
      // Long enough that a second partition's batch, if handed over concurrently, arrives meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 300));
      received.push(...deliveries.map(({ id, stream }) => ({ id, stream })));
      running -= 1;
    });
    const deadline = Date.now() + 30_000;
    while (received.length < sent.length && Date.now() < deadline) await sleep(100);
    await subscriber.close();
    await removeKafkaResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(received.map((r) => r.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(new Set(received.map((r) => r.stream)).size).toBe(3);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(largest).toBeLessThanOrEqual(10);
    for (const stream of new Set(received.map((r) => r.stream))) {
      const order = received.filter((r) => r.stream === stream).map((r) => Number(r.id?.slice(2)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  }, 60_000);

  it('hands the partitions of one fetch over in one call, each partition in order, each record once', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(name);
    const sent = Array.from({ length: 60 }, (_, i) => ({ id: `m-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    const subscriber = await createKafkaSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      logger,
    });
    const calls: { id: string | undefined; stream: string | undefined }[][] = [];
    await subscriber.start(async (deliveries) => {
      calls.push(deliveries.map(({ id, stream }) => ({ id, stream })));
    });
    const received = () => calls.flat();
    const deadline = Date.now() + 30_000;
    while (received().length < sent.length && Date.now() < deadline) await sleep(100);
    await subscriber.close();
    await removeKafkaResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(
      received()
        .map((r) => r.id)
        .sort(),
    ).toEqual(sent.map((e) => e.id).sort());
    // The first fetch brought all three partitions: one call carried them all.
    expect(Math.max(...calls.map((call) => new Set(call.map((r) => r.stream)).size))).toBe(3);
    for (const stream of new Set(received().map((r) => r.stream))) {
      const order = received()
        .filter((r) => r.stream === stream)
        .map((r) => Number(r.id?.slice(2)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
    }
  }, 60_000);

  it('waits a little for more records: records arriving one by one come in fewer, larger calls', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(name, 0);
    const subscriber = await createKafkaSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      logger,
    });
    const calls: number[] = [];
    await subscriber.start(async (deliveries) => {
      calls.push(deliveries.length);
    });
    const received = () => calls.reduce((sum, n) => sum + n, 0);
    // Joined and fetching: a first record comes through.
    await publisher.publish([{ id: 'first', payload: Buffer.from('0') }]);
    let deadline = Date.now() + 30_000;
    while (received() < 1 && Date.now() < deadline) await sleep(20);
    calls.length = 0;

    // Up to ~1,000 records/s, one per publish() call, not waiting for each (the publisher sends what arrived
    // while its previous request was out). With fetches that return as soon as a record is there, nearly each
    // produce request was a call of its own; waiting up to maxWaitMs (10 ms) for more, a call carries several.
    const count = 300;
    const publishes: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      publishes.push(publisher.publish([{ id: `s-${i}`, payload: Buffer.from(String(i)) }]));
      await sleep(1);
    }
    await Promise.all(publishes);
    deadline = Date.now() + 30_000;
    while (received() < count && Date.now() < deadline) await sleep(50);
    await publisher.close();
    await subscriber.close();
    await removeKafkaResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(received()).toBe(count);
    expect(calls.length).toBeLessThan(count / 3);
  }, 60_000);

  it('commits handled offsets on its timer and on close, never per chunk', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(name);
    await publisher.publish(
      Array.from({ length: 30 }, (_, i) => ({ id: `t-${i}`, payload: Buffer.from('x') })),
    );
    await publisher.close();
    const lag = () => kafkaGroupBacklog({ ...connection, topic, groupId: name, logger });

    // A timer too slow to fire during the test: whatever gets committed, close() committed.
    const subscriber = await createKafkaSubscriber({
      ...connection,
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

    await removeKafkaResources({ ...connection, topics: [topic], groupIds: [name], logger });
  }, 60_000);
});

describe('kafkaGroupBacklog', () => {
  it('says that a topic does not exist, instead of retrying offset requests for it', async () => {
    const topic = `brokers-test-missing-${suffix()}`;
    await expect(kafkaGroupBacklog({ ...connection, topic, groupId: topic, logger })).rejects.toThrow(
      `topic ${topic} does not exist (yet)`,
    );
  });
});

describe('SASL/SCRAM', () => {
  it('is what the local stack requires: every client above authenticated', () => {
    expect(connection.sasl).toMatchObject({ mechanism: 'scram-sha-512', username: expect.any(String) });
  });

  it('a wrong password is refused at once, not retried as if the broker were away', async () => {
    const started = Date.now();
    const wrong = {
      ...connection,
      sasl: { ...(connection.sasl as KafkaSasl), password: 'not-the-password' },
    };
    await expect(withKafkaAdmin({ ...wrong, logger }, (admin) => admin.listTopics())).rejects.toMatchObject({
      name: 'KafkaJSSASLAuthenticationError',
    });
    await expect(
      createKafkaPublisher({ ...wrong, topic: 'brokers-test-never', clientId: 'brokers-test-wrong', logger }),
    ).rejects.toThrow(/SASL SCRAM SHA512 authentication failed/);
    // The retrying helpers' bound is 30 s: an authentication failure is not worth a retry.
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
