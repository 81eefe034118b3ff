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

describe('kafka subscriber', () => {
  kafkaBehaviour(kafkaAdapters.kafkajs);
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
