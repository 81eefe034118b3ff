import type { Admin } from '@platformatic/kafka';
import type { KafkaGroupBacklogOptions } from '../kafka/backlog.ts';
import { silentLogger } from '../logger.ts';
import { type RetryOptions, retrying } from '../retry.ts';
import { isRetriableForKnownTopic, withPlatformaticAdmin } from './client.ts';

/**
 * groupLag's twin: Σ over partitions of (high watermark − committed offset), a partition with no commit counting
 * from its low watermark; retriable errors are retried for up to `retry.timeoutMs` (5 s by default).
 */
export function platformaticGroupLag(
  admin: Admin,
  topic: string,
  groupId: string,
  retry: RetryOptions = { timeoutMs: 5_000 },
): Promise<number> {
  return retrying(() => lag(admin, topic, groupId), {
    ...retry,
    what: `kafka backlog of group ${groupId} on ${topic}`,
    // The subscriber's topic exists: a fresh one may still be unknown to a new client for a moment.
    isRetriable: isRetriableForKnownTopic,
  });
}

async function lag(admin: Admin, topic: string, groupId: string): Promise<number> {
  const metadata = await admin.metadata({ topics: [topic] });
  const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
  const partitions = Array.from({ length: count }, (_, partitionIndex) => partitionIndex);
  const offsets = (timestamp: bigint) =>
    admin.listOffsets({
      topics: [
        { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
      ],
    });
  // All three settle before a failure is thrown, so that no request is left running on a client being closed.
  const [highs, lows, groups] = await Promise.allSettled([
    offsets(-1n),
    offsets(-2n),
    admin.listConsumerGroupOffsets({
      groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }],
    }),
  ]);
  for (const result of [highs, lows, groups]) if (result.status === 'rejected') throw result.reason;
  const byPartition = (result: typeof highs) =>
    new Map(
      (result.status === 'fulfilled' ? result.value : [])
        .find((t) => t.name === topic)
        ?.partitions.map((p) => [p.partitionIndex, p.offset]) ?? [],
    );
  const [high, low] = [byPartition(highs), byPartition(lows)];
  const committed = new Map(
    (groups.status === 'fulfilled' ? groups.value : [])
      .find((g) => g.groupId === groupId)
      ?.topics.find((t) => t.name === topic)
      ?.partitions.map((p) => [p.partitionIndex, p.committedOffset]) ?? [],
  );
  let total = 0;
  for (const partition of partitions) {
    const end = Number(high.get(partition) ?? 0n);
    const from = Math.max(Number(committed.get(partition) ?? -1n), Number(low.get(partition) ?? 0n));
    total += Math.max(0, end - from);
  }
  return total;
}

/** kafkaGroupBacklog's twin: a consumer group's backlog seen from outside, for tools; silent unless given a logger. */
export function platformaticKafkaGroupBacklog(options: KafkaGroupBacklogOptions): Promise<number> {
  const { topic, groupId } = options;
  const client = {
    ...options,
    clientId: options.clientId ?? 'tandem-backlog',
    logger: options.logger ?? silentLogger,
  };
  return withPlatformaticAdmin(client, async (admin) => {
    // Not retriable: the topic is not coming.
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist (yet)`);
    return lag(admin, topic, groupId);
  });
}
