// The backlog readers that keep their Kafka admin / AMQP connection from read to read (the live comparison page's),
// against the local stack: one admin or connection for many reads, a new one after it failed. The admins and
// connections are the real ones; the factories only count them.
import { kafkaConnectionFromEnv } from '@tandem/config';
import amqp from 'amqplib';
import type { Admin } from 'kafkajs';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  createKafkaPublisher,
  ensureKafkaTopic,
  openKafkaBacklogReader,
  openRabbitBacklogReader,
  removeKafkaResources,
  removeRabbitQueues,
} from '../src/index.ts';
import { createKafkaClient } from '../src/kafka/client.ts';
import { makeEnvelopes } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';
import { startProxy } from './tcp-proxy.ts';

const kafka = kafkaConnectionFromEnv();
const rabbitUrl = required('RABBITMQ_URL');

describe('openKafkaBacklogReader', () => {
  it('answers every read on one admin', async () => {
    const topic = `brokers-test-${suffix()}`;
    await ensureKafkaTopic({ ...kafka, topic, partitions: 2, logger });
    onTestFinished(async () => {
      await removeKafkaResources({ ...kafka, topics: [topic], groupIds: [], logger });
    });
    const publisher = await createKafkaPublisher({ ...kafka, clientId: 'brokers-test', topic, logger });
    await publisher.publish(makeEnvelopes(7, 'k'));
    await publisher.close();

    const admins: Admin[] = [];
    const reader = openKafkaBacklogReader({
      ...kafka,
      logger,
      createAdmin: () => {
        const admin = createKafkaClient({ ...kafka, clientId: 'brokers-test', logger }).admin();
        admins.push(admin);
        return admin;
      },
    });
    onTestFinished(() => reader.close());
    for (let read = 0; read < 3; read++) expect(await reader.groupBacklog(topic, `g-${suffix()}`)).toBe(7);
    expect(admins).toHaveLength(1);
    await expect(reader.groupBacklog(`missing-${suffix()}`, 'g')).rejects.toThrow(/does not exist/);
    expect(admins).toHaveLength(1); // a missing topic is the topic's, not the admin's
  });

  it('connects a new admin once Kafka can be reached again, and keeps that one', async () => {
    const topic = `brokers-test-${suffix()}`;
    await ensureKafkaTopic({ ...kafka, topic, partitions: 1, logger });
    onTestFinished(async () => {
      await removeKafkaResources({ ...kafka, topics: [topic], groupIds: [], logger });
    });
    // In front of the bootstrap broker: while it refuses, an admin cannot connect.
    const [host, port] = (kafka.brokers[0] ?? '').split(':');
    const proxy = await startProxy({ host: host ?? '127.0.0.1', port: Number(port) });
    onTestFinished(() => proxy.close());
    proxy.cut();
    const admins: Admin[] = [];
    const reader = openKafkaBacklogReader({
      ...kafka,
      brokers: [`127.0.0.1:${proxy.port}`],
      logger,
      retry: { timeoutMs: 0 },
      createAdmin: () => {
        const options = { ...kafka, brokers: [`127.0.0.1:${proxy.port}`], clientId: 'brokers-test' };
        const admin = createKafkaClient({ ...options, logger, clientRetries: 0 }).admin();
        admins.push(admin);
        return admin;
      },
    });
    onTestFinished(() => reader.close());
    await expect(reader.groupBacklog(topic, 'g')).rejects.toThrow();
    expect(admins).toHaveLength(1);
    proxy.restore();
    for (let read = 0; read < 3; read++) expect(await reader.groupBacklog(topic, 'g')).toBe(0);
    expect(admins).toHaveLength(2);
  });
});

describe('openRabbitBacklogReader', () => {
  it('answers every read on one connection, and opens a new one after the broker went away', async () => {
    const queue = `brokers-test-${suffix()}`;
    const setup = await amqp.connect(rabbitUrl);
    onTestFinished(async () => {
      await setup.close().catch(() => {});
      await removeRabbitQueues({ url: rabbitUrl, queues: [queue] });
    });
    const channel = await setup.createConfirmChannel();
    await channel.assertQueue(queue, { durable: false });
    for (let i = 0; i < 4; i++) channel.sendToQueue(queue, Buffer.from(`m-${i}`));
    await channel.waitForConfirms();

    const target = new URL(rabbitUrl);
    const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5672) });
    onTestFinished(() => proxy.close());
    const viaProxy = new URL(rabbitUrl);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    let opened = 0;
    const reader = openRabbitBacklogReader({
      url: viaProxy.toString(),
      retry: { timeoutMs: 200 },
      connect: (url, socket) => {
        opened++;
        return amqp.connect(url, socket);
      },
    });
    onTestFinished(() => reader.close());

    // The queue and a missing one side by side: the 404 closes only its own channel.
    const [ready, missing] = await Promise.allSettled([
      reader.queueBacklog(queue),
      reader.queueBacklog(`missing-${suffix()}`),
    ]);
    expect(ready).toEqual({ status: 'fulfilled', value: 4 });
    expect(missing.status === 'rejected' && String(missing.reason)).toMatch(/404/);
    for (let read = 0; read < 3; read++) expect(await reader.queueBacklog(queue)).toBe(4);
    expect(opened).toBe(1);

    proxy.cut();
    await expect(reader.queueBacklog(queue)).rejects.toThrow();
    proxy.restore();
    expect(await reader.queueBacklog(queue)).toBe(4);
    expect(await reader.queueBacklog(queue)).toBe(4);
    const afterCut = opened;
    expect(afterCut).toBeGreaterThan(1);
    expect(await reader.queueBacklog(queue)).toBe(4);
    expect(opened).toBe(afterCut);
  });
});
