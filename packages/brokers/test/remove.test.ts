// Removing a finished run's topics, groups and queues, against the real local Kafka and RabbitMQ.

import { kafkaConnectionFromEnv } from '@tandem/config';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  createKafkaPublisher,
  createKafkaSubscriber,
  ensureKafkaTopic,
  removeKafkaResources,
  removeRabbitQueues,
} from '../src/index.ts';
import { withKafkaAdmin } from '../src/kafka/client.ts';
import { collect, makeEnvelopes, waitFor } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';

/** The local stack's broker and its SASL/SCRAM credentials, from `.stack/env`. */
const connection = kafkaConnectionFromEnv();
const url = required('RABBITMQ_URL');

describe('removeKafkaResources', () => {
  // The checks go through the same retrying admin as the tools.
  const admin = { ...connection, clientId: 'brokers-test-admin', logger };
  const groups = () =>
    withKafkaAdmin(admin, (a) => a.listGroups()).then(({ groups }) => groups.map((group) => group.groupId));
  const topics = () => withKafkaAdmin(admin, (a) => a.listTopics());

  async function consumeAll(topic: string, groupId: string) {
    const publisher = await createKafkaPublisher({ ...connection, topic, clientId: groupId, logger });
    const envelopes = makeEnvelopes(5, groupId);
    await publisher.publish(envelopes);
    await publisher.close();
    const subscriber = await createKafkaSubscriber({
      ...connection,
      topic,
      groupId,
      clientId: groupId,
      logger,
    });
    const seen = collect();
    await subscriber.start(seen.handler);
    await waitFor(() => seen.distinct.size === envelopes.length, `${groupId} read everything`);
    return subscriber;
  }

  it('deletes the topics and groups that exist, skips the missing ones, and leaves a group that has a member', async () => {
    const name = `brokers-test-${suffix()}`;
    const [topic, other] = [name, `${name}-other`];
    const [idle, busy, never] = [`${name}-idle`, `${name}-busy`, `${name}-never`];
    await ensureKafkaTopic({ ...connection, topic, partitions: 2, logger });
    await ensureKafkaTopic({ ...connection, topic: other, partitions: 1, logger });
    await (await consumeAll(topic, idle)).close();
    const member = await consumeAll(other, busy);

    const first = await removeKafkaResources({
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
    expect(await topics()).toContain(other);

    await member.close();
    const second = await removeKafkaResources({
      ...connection,
      topics: [topic, other],
      groupIds: [busy],
      logger,
    });
    expect(second).toEqual({ removed: [busy, other], left: [] });
    expect(await groups()).not.toContain(busy);
    expect(await topics()).not.toContain(other);
  });
});

describe('removeRabbitQueues', () => {
  it('deletes the queues that exist, messages and all, and skips the missing ones', async () => {
    const name = `brokers-test-${suffix()}`;
    const connection = await amqp.connect(url);
    const channel = await connection.createConfirmChannel();
    try {
      await channel.assertQueue(name, { durable: true });
      for (let i = 0; i < 10; i += 1) channel.sendToQueue(name, Buffer.from(`message ${i}`));
      await channel.waitForConfirms();
      expect((await channel.checkQueue(name)).messageCount).toBe(10);

      expect(await removeRabbitQueues({ url, queues: [`${name}.dlq`, name] })).toEqual([name]);
      // A check of a missing queue fails with 404 and closes the channel.
      const probe = await connection.createChannel();
      probe.on('error', () => {});
      await expect(probe.checkQueue(name)).rejects.toThrow(/NOT_FOUND/);
      expect(await removeRabbitQueues({ url, queues: [name] })).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});
