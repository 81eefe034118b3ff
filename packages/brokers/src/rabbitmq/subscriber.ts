import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, ConsumeMessage } from 'amqplib';
import { createCoalescer } from '../coalesce.ts';
import type { BatchHandler, Delivery, Subscriber, SubscriberOptions } from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import { stderrLogger } from '../logger.ts';
import {
  closeChannels,
  connectRabbit,
  queueOptions,
  type RabbitConnectionOptions,
  type RabbitQueueOptions,
  watchChannel,
} from './connection.ts';

export interface RabbitSubscriberOptions
  extends SubscriberOptions,
    RabbitConnectionOptions,
    RabbitQueueOptions {
  /** Unacked deliveries the broker may push ahead (per-consumer basic.qos). Default 2 × maxBatch, so that the next batch gathers while one is handled. */
  prefetch?: number;
  /**
   * After a handler rejection the batch stays unacked this long before it is requeued (ms), doubling with each
   * failure in a row up to 5 s, so that a failing store is not hammered. Default 200. Not applied while closing.
   */
  retryDelayMs?: number;
}

/** Defined here only: rabbit-consumer's BATCH_MAX and BATCH_LINGER_MS default to maxBatch and lingerMs. */
export const rabbitSubscriberDefaults = { maxBatch: 500, lingerMs: 5, retryDelayMs: 200 } as const;

interface Pending {
  message: ConsumeMessage;
  channel: Channel;
}

interface Consumption {
  channel: Channel;
  /** For queue depth queries: a failed query closes its channel, and this keeps that away from consumption. */
  query: Channel;
  consumerTag?: string;
}

/**
 * Consumes a durable queue (declared as the publisher declares it) and hands the handler batches of up to
 * maxBatch deliveries, or what arrived within lingerMs. After the handler resolves the batch is acked, after it
 * rejects nacked with requeue. Resolves once connected; start() begins consuming.
 */
export async function createRabbitSubscriber(options: RabbitSubscriberOptions): Promise<Subscriber> {
  const { queue } = options;
  const logger = options.logger ?? stderrLogger;
  const maxBatch = options.maxBatch ?? rabbitSubscriberDefaults.maxBatch;
  const lingerMs = options.lingerMs ?? rabbitSubscriberDefaults.lingerMs;
  const prefetch = options.prefetch ?? 2 * maxBatch;
  const retryDelayMs = options.retryDelayMs ?? rabbitSubscriberDefaults.retryDelayMs;

  let state: 'idle' | 'running' | 'closing' | 'closed' = 'idle';
  let handler: BatchHandler | undefined;
  let current: Consumption | undefined;
  let closed: Promise<void> | undefined;
  /** Deliveries this subscriber holds and has not acked or nacked yet. */
  let unacked = 0;
  let failuresInARow = 0;
  const closedChannels = new WeakSet<Channel>();

  const batches = createCoalescer<Pending>({ maxBatch, lingerMs, send: handleBatch });

  const consume = async (consumption: Consumption) => {
    const { channel } = consumption;
    const reply = await channel.consume(queue, (message) => {
      if (message === null) {
        // The broker cancelled the consumer (the queue was deleted): reconnecting declares it and consumes again.
        logger.warn({ component: 'amqplib', queue }, 'rabbitmq cancelled the consumer');
        channel.close().catch(() => {});
        return;
      }
      unacked += 1;
      batches.add([{ message, channel }]).catch(() => {});
    });
    consumption.consumerTag = reply.consumerTag;
  };

  const connection = await connectRabbit(options, {
    role: 'subscriber',
    async setup(model) {
      const channel = await model.createChannel();
      const query = await model.createChannel();
      const consumption: Consumption = { channel, query };
      for (const ch of [channel, query]) {
        watchChannel(model, ch, {
          logger,
          closing: () => state === 'closing' || state === 'closed',
          onClose() {
            closedChannels.add(ch);
            if (current === consumption) current = undefined;
          },
        });
      }
      await channel.assertQueue(queue, queueOptions(options.queueType));
      await channel.prefetch(prefetch);
      if (state === 'running') await consume(consumption);
      current = consumption;
    },
    onDisconnect() {
      current = undefined;
    },
  });

  async function handleBatch(items: Pending[]): Promise<void> {
    // What came on a channel that has closed since was requeued by the broker: it can be neither acked nor
    // nacked, and handling it would only add a duplicate.
    const live = items.filter((item) => !closedChannels.has(item.channel));
    unacked -= items.length - live.length;
    if (live.length === 0 || !handler) return;
    const deliveries: Delivery[] = live.map(({ message }) => {
      const id: unknown = message.properties.messageId;
      return { id: typeof id === 'string' ? id : undefined, payload: message.content, stream: queue };
    });
    try {
      await handler(deliveries);
      failuresInARow = 0;
      settle(live, (channel, last) => channel.ack(last, true));
    } catch (err) {
      failuresInARow += 1;
      logger.warn(
        { queue, err, deliveries: live.length },
        'batch handler rejected; the batch will be requeued',
      );
      if (state === 'running') await sleep(Math.min(retryDelayMs * 2 ** (failuresInARow - 1), 5000));
      settle(live, (channel, last) => channel.nack(last, true, true));
    }
  }

  /**
   * Acks or nacks a batch with one `multiple` frame per channel. Every earlier delivery on that channel is
   * settled already, as batches are handled one at a time in delivery order.
   */
  function settle(items: Pending[], action: (channel: Channel, last: ConsumeMessage) => void): void {
    const lastPerChannel = new Map<Channel, ConsumeMessage>();
    for (const { channel, message } of items) lastPerChannel.set(channel, message);
    for (const [channel, last] of lastPerChannel) {
      try {
        action(channel, last);
      } catch (err) {
        // The channel closed meanwhile; the broker requeued its unacked deliveries.
        logger.warn({ queue, err }, 'could not settle deliveries on a closed channel');
      }
    }
    unacked -= items.length;
  }

  return {
    async start(batchHandler) {
      if (state !== 'idle') throw new Error(`rabbitmq subscriber cannot start: it is ${state}`);
      const consumption = current;
      if (!consumption) throw new BrokerUnavailableError('rabbitmq', 'not connected (reconnecting)');
      handler = batchHandler;
      state = 'running';
      await consume(consumption);
    },

    async backlog() {
      const consumption = current;
      if (!consumption) throw new BrokerUnavailableError('rabbitmq', 'not connected (reconnecting)');
      // messageCount counts ready messages only; AMQP does not tell the unacked ones. Those held by this
      // subscriber are known here; another consumer's in-flight deliveries are not counted.
      const { messageCount } = await consumption.query.checkQueue(queue);
      return messageCount + unacked;
    },

    isReady: () => state === 'running' && current?.consumerTag !== undefined,

    close() {
      closed ??= (async () => {
        state = 'closing';
        const consumption = current;
        if (consumption?.consumerTag !== undefined) {
          await consumption.channel.cancel(consumption.consumerTag).catch(() => {});
        }
        // The batch in flight and what was prefetched already: handled and acked (or nacked) before closing.
        await batches.drain();
        await closeChannels([consumption?.channel, consumption?.query]);
        await connection.close();
        state = 'closed';
      })();
      return closed;
    },
  };
}
