import { type RabbitToolOptions, withRabbitConnection } from './connection.ts';

export interface RemoveRabbitQueuesOptions extends RabbitToolOptions {
  queues: readonly string[];
}

/**
 * Deletes the given queues, messages and all, whichever exist: a test or bench run's own, once it is over, so that
 * a local node does not hold every run's queues in memory. Resolves with the queues that existed.
 */
export function removeRabbitQueues(options: RemoveRabbitQueuesOptions): Promise<string[]> {
  // Outside the work, which withRabbitConnection runs again after a transient error: a queue an earlier attempt
  // deleted is missing by then, and still counts as removed.
  const removed = new Set<string>();
  return withRabbitConnection(options, async (connection) => {
    for (const queue of options.queues) {
      if (removed.has(queue)) continue;
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      try {
        await channel.checkQueue(queue);
      } catch (error) {
        // Missing: the check closed the channel. Anything else (the connection lost) is withRabbitConnection's.
        if ((error as { code?: unknown }).code === 404) continue;
        throw error;
      }
      await channel.deleteQueue(queue);
      removed.add(queue);
      await channel.close();
    }
    return [...removed];
  });
}
