import { afterAll } from 'vitest';
import {
  createKafkaPublisher,
  createKafkaSubscriber,
  ensureKafkaTopic,
  kafkaFeatures,
  kafkaGroupBacklog,
} from '../src/index.ts';
import { createKafkaClient } from '../src/kafka/client.ts';
import { brokerConformance } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';

const brokers = required('KAFKA_BROKERS').split(',');
const admin = createKafkaClient({ brokers, clientId: 'brokers-test-admin', logger }).admin();
await admin.connect();
afterAll(() => admin.disconnect());

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
        await admin.deleteGroups([groupId]).catch(() => {}); // none if no subscriber ever joined
        await admin.deleteTopics({ topics: [topic] });
      },
    };
  },
});
