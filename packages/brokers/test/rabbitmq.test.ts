import { Socket } from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  createRabbitPublisher,
  createRabbitSubscriber,
  rabbitFeatures,
  rabbitQueueBacklog,
  removeRabbitQueues,
} from '../src/index.ts';
import { brokerConformance, makeEnvelopes } from './broker.case.ts';
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

describe('rabbitmq publisher writes', () => {
  it('sends a batch in a few socket writes, not one per message', async () => {
    const queue = `brokers-test-${suffix()}`;
    const publisher = await createRabbitPublisher({ url, queue, logger });
    onTestFinished(async () => {
      await publisher.close();
      await removeRabbitQueues({ url, queues: [queue] });
    });
    await publisher.publish(makeEnvelopes(1, 'warm-up'));

    // The real sockets, observed: every write that reaches the kernel goes through _write or _writev.
    const port = Number(new URL(url).port || 5672);
    let writes = 0;
    const count = function (this: Socket) {
      if (this.remotePort === port) writes += 1;
    };
    const write = Socket.prototype._write;
    const writev = Socket.prototype._writev;
    const spies = [
      vi.spyOn(Socket.prototype, '_write').mockImplementation(function (this: Socket, ...args) {
        count.call(this);
        return write.apply(this, args);
      }),
      vi.spyOn(Socket.prototype, '_writev').mockImplementation(function (this: Socket, ...args) {
        count.call(this);
        return writev?.apply(this, args);
      }),
    ];
    try {
      await publisher.publish(makeEnvelopes(200, 'batch'));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    // One per message (200) without batching; a handful with it (a heartbeat may slip in).
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(5);
    expect(await rabbitQueueBacklog({ url, queue })).toBe(201);
  });
});

describe('rabbitmq publisher back-pressure', () => {
  it('lets many publishes wait for one drain of a full channel without a listener leak', async () => {
    const queue = `brokers-test-${suffix()}`;
    const publisher = await createRabbitPublisher({ url, queue, logger });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    onTestFinished(async () => {
      process.off('warning', onWarning);
      await publisher.close();
      await removeRabbitQueues({ url, queues: [queue] });
    });
    // amqplib's channel takes 1,024 frames before it says it is full: 40 concurrent publishes of 100 messages
    // fill it by the eleventh, and the rest wait for it to drain.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => publisher.publish(makeEnvelopes(100, `full-${i}`))),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(await rabbitQueueBacklog({ url, queue })).toBe(4000);
  });
});
