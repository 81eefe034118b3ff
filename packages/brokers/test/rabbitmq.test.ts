import amqp from 'amqplib';
import { afterAll } from 'vitest';
import {
  createRabbitPublisher,
  createRabbitSubscriber,
  rabbitFeatures,
  rabbitQueueBacklog,
} from '../src/index.ts';
import { brokerConformance } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';

const url = required('RABBITMQ_URL');
const admin = await amqp.connect(url);
afterAll(() => admin.close());

brokerConformance({
  features: rabbitFeatures,
  async open() {
    const queue = `brokers-test-${suffix()}`;
    return {
      publisher: async () => ({ publisher: await createRabbitPublisher({ url, queue, logger }) }),
      subscriber: ({ maxBatch }) =>
        createRabbitSubscriber({ url, queue, maxBatch, lingerMs: 10, retryDelayMs: 10, logger }),
      backlogFromOutside: () => rabbitQueueBacklog({ url, queue }),
      async dispose() {
        const channel = await admin.createChannel();
        await channel.deleteQueue(queue);
        await channel.close();
      },
    };
  },
});
