/**
 * Kafka behaviour both adapters must show beyond the shared conformance suite, against the local stack's broker:
 * kafka.test.ts runs it on kafkajs, platformatic.test.ts on @platformatic/kafka.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaConnectionFromEnv } from '@tandem/config';
import { expect, it } from 'vitest';
import type { KafkaAdapter } from '../src/index.ts';
import { waitFor } from './broker.case.ts';
import { testLogger as logger, suffix } from './support.ts';

const connection = kafkaConnectionFromEnv();

/** A topic of its own (3 partitions), and a publisher to it. */
export async function topicWithPublisher(kafka: KafkaAdapter, name: string, lingerMs = 5) {
  const topic = `brokers-test-${name}`;
  await kafka.ensureTopic({ ...connection, topic, partitions: 3, logger });
  const publisher = await kafka.createPublisher({ ...connection, topic, clientId: name, lingerMs, logger });
  return { topic, publisher };
}

type Received = { id: string | undefined; stream: string | undefined };

/** Each stream's ids in the order they were handled must be in publish order (`<prefix>-<n>`, n rising). */
function expectOrderPerStream(received: readonly Received[]): void {
  for (const stream of new Set(received.map((r) => r.stream))) {
    const order = received.filter((r) => r.stream === stream).map((r) => Number(r.id?.split('-')[1]));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }
}

export function kafkaBehaviour(kafka: KafkaAdapter): void {
  it('commits handled offsets on its timer and on close, never per chunk', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name);
    await publisher.publish(
      Array.from({ length: 30 }, (_, i) => ({ id: `t-${i}`, payload: Buffer.from('x') })),
    );
    await publisher.close();
    const lag = () => kafka.groupBacklog({ ...connection, topic, groupId: name, logger });

    // A timer too slow to fire during the test: whatever gets committed, close() committed.
    const subscriber = await kafka.createSubscriber({
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
    await waitFor(() => handled >= 30, 'all 30 handled', 30_000);
    await sleep(500);
    expect(handled).toBe(30);
    expect(await lag()).toBe(30);
    await subscriber.close();
    expect(await lag()).toBe(0);

    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });
  }, 60_000);

  it('stays in its group while the handler holds a batch longer than the session timeout', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name);
    const sent = Array.from({ length: 30 }, (_, i) => ({ id: `h-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    // 6 s is the broker's smallest allowed session (group.min.session.timeout.ms).
    const sessionTimeoutMs = 6000;
    const subscriber = await kafka.createSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      sessionTimeoutMs,
      logger,
    });
    const seen: (string | undefined)[] = [];
    let held = false;
    await subscriber.start(async (deliveries) => {
      if (!held) {
        held = true;
        // A store refusing writes, retried for twice the session.
        await sleep(2 * sessionTimeoutMs);
      }
      seen.push(...deliveries.map((d) => d.id));
    });
    const deadline = Date.now() + 40_000;
    while (seen.length < sent.length && Date.now() < deadline) await sleep(100);
    // A member dropped from the group would rejoin and read the held records again from the committed offset.
    await sleep(3000);
    const ready = subscriber.isReady();
    await subscriber.close();
    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(held).toBe(true);
    expect(seen.sort()).toEqual(sent.map((e) => e.id).sort());
    expect(ready).toBe(true);
  }, 60_000);

  it('hands chunks of several partitions at once, in calls of at most maxBatch, each partition in order, each record once', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name);
    const sent = Array.from({ length: 60 }, (_, i) => ({ id: `c-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    // Chunks of at most 10: the partitions' chunks cannot all share one call, and the calls run at once.
    const subscriber = await kafka.createSubscriber({
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
    const received: Received[] = [];
    await subscriber.start(async (deliveries) => {
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      largest = Math.max(largest, deliveries.length);
      // Long enough that a second partition's chunk, if handed over concurrently, arrives meanwhile.
      await sleep(300);
      received.push(...deliveries.map(({ id, stream }) => ({ id, stream })));
      running -= 1;
    });
    const deadline = Date.now() + 30_000;
    while (received.length < sent.length && Date.now() < deadline) await sleep(100);
    await subscriber.close();
    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(received.map((r) => r.id).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(new Set(received.map((r) => r.stream)).size).toBe(3);
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(largest).toBeLessThanOrEqual(10);
    expectOrderPerStream(received);
  }, 60_000);

  it('hands the partitions of one fetch over in one call, each partition in order, each record once', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name);
    const sent = Array.from({ length: 60 }, (_, i) => ({ id: `m-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    const subscriber = await kafka.createSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      logger,
    });
    const calls: Received[][] = [];
    await subscriber.start(async (deliveries) => {
      calls.push(deliveries.map(({ id, stream }) => ({ id, stream })));
    });
    const received = () => calls.flat();
    const deadline = Date.now() + 30_000;
    while (received().length < sent.length && Date.now() < deadline) await sleep(100);
    await subscriber.close();
    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(
      received()
        .map((r) => r.id)
        .sort(),
    ).toEqual(sent.map((e) => e.id).sort());
    // The first fetch brought all three partitions: one call carried them all.
    expect(Math.max(...calls.map((call) => new Set(call.map((r) => r.stream)).size))).toBe(3);
    expectOrderPerStream(received());
  }, 60_000);

  it('waits a little for more records: records arriving one by one come in fewer, larger calls', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name, 0);
    const subscriber = await kafka.createSubscriber({
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
    // produce request was a call of its own; waiting up to maxWaitMs (10 ms) for more, and the partitions of a
    // fetch sharing a call, a call carries several.
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
    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(received()).toBe(count);
    expect(calls.length).toBeLessThan(count / 3);
  }, 60_000);
}
