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
