import {
  createRabbitPublisher,
  createRabbitSubscriber,
  rabbitFeatures,
  rabbitQueueBacklog,
  removeRabbitQueues,
} from '../src/index.ts';
import { brokerConformance } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';

const url = required('RABBITMQ_URL');

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
        await removeRabbitQueues({ url, queues: [queue] });
      },
    };
  },
});
