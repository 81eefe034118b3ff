// The @platformatic/kafka adapter against the local stack's real broker: the same conformance suite as kafkajs's,
// then the Kafka-specific behaviour kafka.test.ts checks for kafkajs.
import { tracingChannel } from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import { type KafkaSasl, kafkaConnectionFromEnv } from '@tandem/config';
import { describe, expect, it } from 'vitest';
import { kafkaAdapters, kafkaFeatures } from '../src/index.ts';
import { withPlatformaticAdmin } from '../src/platformatic/client.ts';
import { brokerConformance, collect, makeEnvelopes, waitFor } from './broker.case.ts';
import { kafkaBehaviour, topicWithPublisher } from './kafka.case.ts';
import { testLogger as logger, suffix } from './support.ts';

/** The local stack's broker and its SASL/SCRAM credentials, from `.stack/env`. */
const connection = kafkaConnectionFromEnv();
const kafka = kafkaAdapters.platformatic;

brokerConformance({
  features: { ...kafkaFeatures },
  async open() {
    const name = suffix();
    const topic = `brokers-test-${name}`;
    const groupId = `brokers-test-${name}`;
    const clientId = `brokers-test-${name}`;
    await kafka.ensureTopic({ ...connection, topic, partitions: 3, logger });
    return {
      async publisher() {
        const publisher = await kafka.createPublisher({
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
        kafka.createSubscriber({
          ...connection,
          topic,
          groupId,
          clientId,
          maxBatch,
          maxWaitMs: 100,
          retryDelayMs: 10,
          logger,
        }),
      backlogFromOutside: () => kafka.groupBacklog({ ...connection, topic, groupId, logger }),
      async dispose() {
        await kafka.removeResources({ ...connection, topics: [topic], groupIds: [groupId], logger });
      },
    };
  },
});

/**
 * Counts the library's own diagnostics events (`plt:kafka:<event>`, e.g. consumer:receives) of one consumer group,
 * from now until stop().
 */
function groupEvents(event: string, groupId: string): { readonly count: number; stop(): void } {
  const channel = tracingChannel(`plt:kafka:${event}`);
  let count = 0;
  const onStart = (context: unknown) => {
    if ((context as { client?: { groupId?: string } }).client?.groupId === groupId) count += 1;
  };
  channel.start.subscribe(onStart);
  return {
    get count() {
      return count;
    },
    stop: () => channel.start.unsubscribe(onStart),
  };
}

describe('platformatic kafka subscriber', () => {
  kafkaBehaviour(kafka);

  it('holds back the stream while the handler is stuck: bounded memory, nothing skipped', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name);
    // 12 MB in 3 partitions: a fetch brings at most 1 MB per partition, so reading it all takes several fetches.
    const sent = makeEnvelopes(3000, 'pressure').map((envelope) => ({
      ...envelope,
      payload: Buffer.alloc(4096, envelope.id),
    }));
    for (let start = 0; start < sent.length; start += 500)
      await publisher.publish(sent.slice(start, start + 500));
    await publisher.close();

    // Records the library read off the broker for this group.
    const read = groupEvents('consumer:receives', name);
    // maxBatch 10 × 1 partition at a time: the lanes pause the stream once they hold 10 records.
    const subscriber = await kafka.createSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      maxBatch: 10,
      partitionsConcurrently: 1,
      retryDelayMs: 10,
      logger,
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const seen = collect();
      await subscriber.start(async (batch) => {
        await gate;
        await seen.handler(batch);
      });
      await waitFor(() => read.count > 0, 'a first fetch');
      await sleep(1500);
      // Nothing handled, and the stream stopped after a fetch or two: far from all 3,000 records in memory.
      expect(seen.all.length).toBe(0);
      expect(read.count).toBeLessThan(sent.length / 2);
      release();
      await waitFor(() => seen.distinct.size === sent.length, 'all 3,000 handled', 30_000);
      expect(seen.all.length).toBe(sent.length);
      expect(read.count).toBe(sent.length);
    } finally {
      read.stop();
      release();
      await subscriber.close();
      await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });
    }
  }, 60_000);

  it('idle, fetches twice a second, not every maxWaitMs, and hands a new record over at once', async () => {
    const name = suffix();
    const { topic, publisher } = await topicWithPublisher(kafka, name);
    // Fetch requests this group's consumer sent.
    const fetches = groupEvents('consumer:fetches', name);
    const subscriber = await kafka.createSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      maxWaitMs: 10,
      logger,
    });
    try {
      const seen = collect();
      await subscriber.start(seen.handler);
      await waitFor(() => fetches.count > 0, 'a first fetch');
      const before = fetches.count;
      await sleep(2000);
      // Waiting 10 ms on the broker each, it would have been ~200.
      expect(fetches.count - before).toBeLessThanOrEqual(8);
      // A fetch is waiting on the broker: the record comes back with it, long before the next one would go.
      const sent = Date.now();
      await publisher.publish(makeEnvelopes(1, 'idle'));
      await waitFor(() => seen.all.length === 1, 'the record');
      expect(Date.now() - sent).toBeLessThan(400);
    } finally {
      fetches.stop();
      await publisher.close();
      await subscriber.close();
      await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });
    }
  }, 60_000);
});

describe('platformatic kafka tools', () => {
  it('says that a topic does not exist, instead of retrying offset requests for it', async () => {
    const topic = `brokers-test-missing-${suffix()}`;
    await expect(kafka.groupBacklog({ ...connection, topic, groupId: topic, logger })).rejects.toThrow(
      `topic ${topic} does not exist (yet)`,
    );
  });

  it('creates a topic once, with every partition led, and says whether it created it', async () => {
    const topic = `brokers-test-${suffix()}`;
    const ensure = () => kafka.ensureTopic({ ...connection, topic, partitions: 4, logger });
    const answers = await Promise.all([ensure(), ensure(), ensure()]);
    expect(answers.filter(Boolean)).toHaveLength(1);
    expect(await ensure()).toBe(false);
    const partitions = await withPlatformaticAdmin({ ...connection, logger }, async (admin) => {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
      return metadata.topics.get(topic)?.partitions.map((p) => p.leader);
    });
    expect(partitions).toHaveLength(4);
    expect(partitions?.every((leader) => leader >= 0)).toBe(true);
    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [], logger });
  });

  it('deletes the topics and groups that exist, skips the missing ones, and leaves a group that has a member', async () => {
    const name = `brokers-test-${suffix()}`;
    const [topic, other] = [name, `${name}-other`];
    const [idle, busy, never] = [`${name}-idle`, `${name}-busy`, `${name}-never`];
    await kafka.ensureTopic({ ...connection, topic, partitions: 2, logger });
    await kafka.ensureTopic({ ...connection, topic: other, partitions: 1, logger });
    const consumeAll = async (from: string, groupId: string) => {
      const publisher = await kafka.createPublisher({
        ...connection,
        topic: from,
        clientId: groupId,
        logger,
      });
      const envelopes = makeEnvelopes(5, groupId);
      await publisher.publish(envelopes);
      await publisher.close();
      const subscriber = await kafka.createSubscriber({
        ...connection,
        topic: from,
        groupId,
        clientId: groupId,
        logger,
      });
      const seen = collect();
      await subscriber.start(seen.handler);
      await waitFor(() => seen.distinct.size === envelopes.length, `${groupId} read everything`);
      return subscriber;
    };
    await (await consumeAll(topic, idle)).close();
    const member = await consumeAll(other, busy);
    const groups = () =>
      withPlatformaticAdmin({ ...connection, logger }, async (admin) => [
        ...(await admin.listGroups()).keys(),
      ]);
    const topics = () => withPlatformaticAdmin({ ...connection, logger }, (admin) => admin.listTopics());

    const first = await kafka.removeResources({
      ...connection,
      topics: [topic, `${topic}.dlq`],
      groupIds: [idle, busy, never],
      logger,
    });
    expect(first.removed).toEqual([idle, topic]);
    expect(first.left).toEqual([`${busy} (NON_EMPTY_GROUP)`]);
    expect(await groups()).not.toContain(idle);
    expect(await groups()).toContain(busy);
    expect(await topics()).not.toContain(topic);

    await member.close();
    const second = await kafka.removeResources({ ...connection, topics: [other], groupIds: [busy], logger });
    expect(second).toEqual({ removed: [busy, other], left: [] });
    expect(await groups()).not.toContain(busy);
    expect(await topics()).not.toContain(other);
  }, 60_000);
});

describe('platformatic SASL/SCRAM', () => {
  it('a wrong password is refused at once, not retried as if the broker were away', async () => {
    const started = Date.now();
    const wrong = {
      ...connection,
      sasl: { ...(connection.sasl as KafkaSasl), password: 'not-the-password' },
    };
    await expect(withPlatformaticAdmin({ ...wrong, logger }, (admin) => admin.listTopics())).rejects.toThrow(
      /SASL|authenticat/i,
    );
    await expect(
      kafka.createPublisher({
        ...wrong,
        topic: 'brokers-test-never',
        clientId: 'brokers-test-wrong',
        logger,
      }),
    ).rejects.toThrow(/SASL|authenticat/i);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
