import { withRabbitConnection } from './connection.ts';

export interface RabbitQueueBacklogOptions {
  url: string;
  queue: string;
  /** Give up connecting after this long (ms). Default 5000. */
  timeoutMs?: number;
}

/**
 * A queue's depth seen from outside, for tools: its ready messages. Deliveries that consumers hold unacked are
 * not visible over AMQP (Subscriber.backlog() adds its own). Rejects if the queue does not exist.
 */
export function rabbitQueueBacklog({
  url,
  queue,
  timeoutMs = 5000,
}: RabbitQueueBacklogOptions): Promise<number> {
  return withRabbitConnection(url, timeoutMs, async (connection) => {
    const channel = await connection.createChannel();
    channel.on('error', () => {});
    const { messageCount } = await channel.checkQueue(queue);
    return messageCount;
  });
}
