import type { ConfirmChannel } from 'amqplib';
import type { Envelope, Publisher } from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import {
  closeChannels,
  connectRabbit,
  queueOptions,
  type RabbitConnectionOptions,
  type RabbitQueueOptions,
  watchChannel,
} from './connection.ts';

export interface RabbitPublisherOptions extends RabbitConnectionOptions, RabbitQueueOptions {
  /** content-type of every message. Default application/json. */
  contentType?: string;
  /** A publish that has not been confirmed after this long rejects (ms): a blocked or stalled broker never hangs a caller. Default 10000. */
  confirmTimeoutMs?: number;
}

export const rabbitPublisherDefaults = { contentType: 'application/json', confirmTimeoutMs: 10_000 } as const;

const unavailable = (message: string, cause?: unknown) =>
  new BrokerUnavailableError('rabbitmq', message, cause === undefined ? undefined : { cause });

/**
 * One long-lived connection and confirm channel; messages are persistent, sent to a durable queue through the
 * default exchange with `mandatory`, message-id = envelope id. publish() resolves when the broker confirmed every
 * message, and rejects if one was nacked, returned as unroutable (the queue is gone) or the channel closed first.
 * Resolves once connected and the queue is declared.
 */
export async function createRabbitPublisher(options: RabbitPublisherOptions): Promise<Publisher> {
  const { queue, logger } = options;
  const contentType = options.contentType ?? rabbitPublisherDefaults.contentType;
  const confirmTimeoutMs = options.confirmTimeoutMs ?? rabbitPublisherDefaults.confirmTimeoutMs;
  let channel: ConfirmChannel | undefined;
  let blocked = false;
  let state: 'open' | 'closing' | 'closed' = 'open';
  // basic.return arrives before the confirm of the same message, so its callback can tell it was not stored.
  const returned = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  let closed: Promise<void> | undefined;

  const connection = await connectRabbit(options, {
    role: 'publisher',
    async setup(model) {
      const ch = await model.createConfirmChannel();
      watchChannel(model, ch, {
        logger,
        closing: () => state !== 'open',
        onClose() {
          if (channel === ch) channel = undefined;
        },
      });
      ch.on('return', (message) => {
        const id: unknown = message.properties.messageId;
        if (typeof id === 'string') returned.add(id);
      });
      await ch.assertQueue(queue, queueOptions(options.queueType));
      returned.clear();
      channel = ch;
    },
    onDisconnect() {
      channel = undefined;
    },
    onBlocked(value) {
      blocked = value;
    },
  });

  /**
   * Sends every envelope, then waits until the broker confirmed them all, with one promise and one timer per call
   * (a count of the confirms still due, not a promise per message). The first nack, return or timeout rejects the
   * call; later confirms change nothing.
   */
  async function send(ch: ConfirmChannel, envelopes: readonly Envelope[]): Promise<void> {
    if (envelopes.length === 0) return;
    const all = Promise.withResolvers<void>();
    // A call that fails while sending throws its own error; a confirm failing after that is nobody's to handle.
    all.promise.catch(() => {});
    let unconfirmed = envelopes.length;
    const confirmOf = (id: string) => (err: unknown) => {
      if (err) all.reject(unavailable('the broker did not confirm a message', err));
      else if (returned.delete(id)) all.reject(unavailable(`queue ${queue} does not exist`));
      else if (--unconfirmed === 0) all.resolve();
    };
    try {
      for (const envelope of envelopes) {
        const writable = ch.sendToQueue(
          queue,
          envelope.payload,
          { persistent: true, mandatory: true, messageId: envelope.id, contentType },
          confirmOf(envelope.id),
        );
        // The channel buffers what it cannot write yet; wait for it to drain before adding more.
        if (!writable) await drained(ch);
      }
    } catch (error) {
      throw unavailable('publish failed', error);
    }
    const timer = setTimeout(
      () => all.reject(unavailable(`no confirm within ${confirmTimeoutMs} ms`)),
      confirmTimeoutMs,
    );
    try {
      await all.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async publish(envelopes) {
      if (state !== 'open') throw unavailable('the publisher is closed');
      const ch = channel;
      if (!ch) throw unavailable('not connected (reconnecting)');
      if (blocked) throw unavailable('the broker blocks publishing (resource alarm)');
      const work = send(ch, envelopes);
      inFlight.add(work);
      try {
        await work;
      } finally {
        inFlight.delete(work);
      }
    },
    isReady: () => state === 'open' && channel !== undefined && !blocked,
    close() {
      closed ??= (async () => {
        state = 'closing';
        await Promise.allSettled(inFlight);
        await closeChannels([channel]);
        await connection.close();
        state = 'closed';
      })();
      return closed;
    },
  };
}

/**
 * Resolves when the channel drains (or closes). Concurrent publishes that all found the channel full share one wait,
 * rather than adding a 'drain' and a 'close' listener each (past ten, Node warns of a listener leak).
 */
const drains = new WeakMap<ConfirmChannel, Promise<void>>();
function drained(ch: ConfirmChannel): Promise<void> {
  let waiting = drains.get(ch);
  if (!waiting) {
    waiting = new Promise((resolve) => {
      const done = () => {
        ch.off('drain', done);
        ch.off('close', done);
        drains.delete(ch);
        resolve();
      };
      ch.on('drain', done);
      ch.on('close', done);
    });
    drains.set(ch, waiting);
  }
  return waiting;
}
