import amqp, { type ChannelModel } from 'amqplib';
import { keptConnection } from '../kept.ts';
import { isRetriableAmqpError, retrying } from '../retry.ts';
import { type RabbitToolOptions, withRabbitConnection } from './connection.ts';

export interface RabbitQueueBacklogOptions extends RabbitToolOptions {
  queue: string;
}

/**
 * A queue's depth seen from outside, for tools: its ready messages. Deliveries that consumers hold unacked are
 * not visible over AMQP (Subscriber.backlog() adds its own). Rejects if the queue does not exist.
 */
export function rabbitQueueBacklog(options: RabbitQueueBacklogOptions): Promise<number> {
  const { queue } = options;
  // A missing queue (404) rejects at once; a broker restarting is retried by withRabbitConnection.
  return withRabbitConnection(options, async (connection) => {
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    const { messageCount } = await channel.checkQueue(queue);
    return messageCount;
  });
}

/** rabbitQueueBacklog on a connection kept between calls (openRabbitBacklogReader). */
export interface RabbitBacklogReader {
  /** As rabbitQueueBacklog: the queue's ready messages; rejects when the queue does not exist. */
  queueBacklog(queue: string): Promise<number>;
  /** Closes the connection; later reads reject. */
  close(): Promise<void>;
}

/**
 * rabbitQueueBacklog for a tool that asks again and again (the live comparison page, every second): one connection,
 * opened at the first read and kept, instead of a TCP and AMQP handshake per read; each read checks its queue on a
 * channel of its own (a missing queue closes the channel it was asked on, and must not fail a read beside it). A
 * connection that closed, or that a read failed on for a reason other than the queue's own (404, 403 …), is
 * dropped, and the next attempt (a transient error is retried within `retry`) or the next read opens a new one. A
 * read that does not answer within `timeoutMs` (the connection's silent) drops it too: amqplib has no timeout of its
 * own on a request.
 */
export function openRabbitBacklogReader(options: RabbitToolOptions): RabbitBacklogReader {
  const { url, timeoutMs = 5000 } = options;
  const connect = options.connect ?? ((target, socket) => amqp.connect(target, socket));
  const connections = keptConnection<ChannelModel>(
    (lost) =>
      connect(url, { timeout: timeoutMs }).then((connection) => {
        connection.on('error', () => {});
        connection.on('close', lost);
        return connection;
      }),
    (connection) => connection.close(),
  );
  let closed = false;

  const check = async (queue: string): Promise<number> => {
    if (closed) throw new Error('the rabbitmq backlog reader is closed');
    const which = connections.get();
    const connection = await which;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        (async () => {
          const channel = await connection.createChannel();
          channel.on('error', () => {});
          const { messageCount } = await channel.checkQueue(queue);
          await channel.close().catch(() => {});
          return messageCount;
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`rabbitmq: no answer within ${timeoutMs} ms (ETIMEDOUT)`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (error) {
      // A reply code of the broker's about the queue itself leaves the connection as it was.
      if (!isQueueRefusal(error)) await connections.drop(which);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    queueBacklog(queue) {
      return retrying(() => check(queue), {
        ...options.retry,
        what: `rabbitmq backlog of ${queue}`,
        isRetriable: isRetriableAmqpError,
      });
    },
    async close() {
      closed = true;
      await connections.close();
    },
  };
}

/** A channel closed by the broker for the request itself (404 NOT_FOUND, 403 ACCESS_REFUSED, 406 …). */
function isQueueRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400 && code < 500;
}
