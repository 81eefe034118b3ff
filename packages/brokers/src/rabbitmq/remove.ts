import amqp from 'amqplib';

export interface RemoveRabbitQueuesOptions {
  url: string;
  queues: readonly string[];
  /** Give up connecting after this long (ms). Default 5000. */
  timeoutMs?: number;
}

/**
 * Deletes the given queues, messages and all, whichever exist: a test or bench run's own, once it is over, so that
 * a local node does not hold every run's queues in memory. Resolves with the queues that existed.
 */
export async function removeRabbitQueues({
  url,
  queues,
  timeoutMs = 5000,
}: RemoveRabbitQueuesOptions): Promise<string[]> {
  const connection = await amqp.connect(url, { timeout: timeoutMs });
  // A check of a missing queue closes its channel, and the connection reports it as an 'error' event.
  connection.on('error', () => {});
  const removed: string[] = [];
  try {
    for (const queue of queues) {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      try {
        await channel.checkQueue(queue);
      } catch {
        continue; // missing: the check closed the channel
      }
      await channel.deleteQueue(queue);
      removed.push(queue);
      await channel.close();
    }
    return removed;
  } finally {
    await connection.close().catch(() => {});
  }
}
