import type {
  BatchHandler,
  BrokerFeatures,
  Envelope,
  Publisher,
  Subscriber,
  SubscriberOptions,
} from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import { memoryFeatures } from '../features.ts';

export interface MemorySubscriberOptions extends SubscriberOptions {
  /** Default 'default'. Subscribers of one queue compete for its messages, as RabbitMQ consumers do. */
  queue?: string;
  /** Pause before a rejected batch is offered again (ms). Default 10. */
  retryDelayMs?: number;
}

export interface MemoryBroker {
  readonly features: BrokerFeatures;
  publisher(options?: { queue?: string }): Publisher;
  subscriber(options?: MemorySubscriberOptions): Subscriber;
  /** While false, the broker is "down": publish() and backlog() reject at once, isReady() is false, nothing is delivered. */
  setAvailable(available: boolean): void;
  /** Every envelope ever published to the queue, in order. */
  published(queue?: string): readonly Envelope[];
}

interface Consumer {
  maxBatch: number;
  retryDelayMs: number;
  handler: BatchHandler;
  busy: boolean;
  /** Settles when the batch in flight is done. */
  idle: Promise<void>;
}

interface Queue {
  ready: Envelope[];
  /** Handed to a handler that has not resolved yet. */
  unacked: number;
  consumers: Consumer[];
  published: Envelope[];
}

const unavailable = () => new BrokerUnavailableError('memory', 'the broker is down');

/**
 * An in-process broker with the same at-least-once contract as the real ones, for unit tests of logic: a batch
 * is acknowledged when its handler resolves; after a rejection or a close mid-batch nothing is lost, the batch is
 * offered again (first in line). It behaves as a queue (see memoryFeatures).
 */
export function createMemoryBroker(): MemoryBroker {
  const queues = new Map<string, Queue>();
  let available = true;

  const queueNamed = (name = 'default'): Queue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { ready: [], unacked: 0, consumers: [], published: [] };
      queues.set(name, queue);
    }
    return queue;
  };

  const schedule = (queue: Queue, delayMs = 0) => {
    const run = () => dispatch(queue);
    if (delayMs > 0) setTimeout(run, delayMs);
    else setImmediate(run);
  };

  function dispatch(queue: Queue): void {
    if (!available) return;
    for (const consumer of queue.consumers) {
      if (queue.ready.length === 0) return;
      if (!consumer.busy) deliver(queue, consumer);
    }
  }

  function deliver(queue: Queue, consumer: Consumer): void {
    const batch = queue.ready.splice(0, consumer.maxBatch);
    queue.unacked += batch.length;
    consumer.busy = true;
    consumer.idle = (async () => {
      let delay = 0;
      try {
        await consumer.handler(batch.map(({ id, payload }) => ({ id, payload, stream: 'memory' })));
      } catch {
        queue.ready.unshift(...batch);
        delay = consumer.retryDelayMs;
      } finally {
        queue.unacked -= batch.length;
        consumer.busy = false;
      }
      schedule(queue, delay);
    })();
  }

  return {
    features: memoryFeatures,

    setAvailable(value) {
      available = value;
      if (value) for (const queue of queues.values()) schedule(queue);
    },

    published: (name) => [...queueNamed(name).published],

    publisher(options = {}) {
      const queue = queueNamed(options.queue);
      let open = true;
      return {
        async publish(envelopes) {
          if (!open) throw new BrokerUnavailableError('memory', 'the publisher is closed');
          if (!available) throw unavailable();
          queue.ready.push(...envelopes);
          queue.published.push(...envelopes);
          schedule(queue);
        },
        isReady: () => open && available,
        async close() {
          open = false;
        },
      };
    },

    subscriber(options = {}) {
      const queue = queueNamed(options.queue);
      let consumer: Consumer | undefined;
      let state: 'idle' | 'running' | 'closed' = 'idle';
      return {
        async start(handler) {
          if (state !== 'idle') throw new Error(`memory subscriber cannot start: it is ${state}`);
          state = 'running';
          consumer = {
            handler,
            maxBatch: options.maxBatch ?? 100,
            retryDelayMs: options.retryDelayMs ?? 10,
            busy: false,
            idle: Promise.resolve(),
          };
          queue.consumers.push(consumer);
          schedule(queue);
        },
        async backlog() {
          if (!available) throw unavailable();
          return queue.ready.length + queue.unacked;
        },
        isReady: () => state === 'running' && available,
        async close() {
          if (state === 'closed') return;
          state = 'closed';
          if (!consumer) return;
          queue.consumers = queue.consumers.filter((other) => other !== consumer);
          await consumer.idle;
        },
      };
    },
  };
}
