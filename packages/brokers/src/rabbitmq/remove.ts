import { withRabbitConnection } from './connection.ts';

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
export function removeRabbitQueues({
  url,
  queues,
  timeoutMs = 5000,
}: RemoveRabbitQueuesOptions): Promise<string[]> {
  return withRabbitConnection(url, timeoutMs, async (connection) => {
    const removed: string[] = [];
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
  });
}
