import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { createKafkaClient, type KafkaClientOptions } from './client.ts';

/**
 * The consumer group's lag on a topic: Σ over partitions of (high watermark − committed offset); a partition with
 * no commit yet counts from its low watermark (the group starts at the oldest record still kept).
 */
export async function groupLag(admin: Admin, topic: string, groupId: string): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await lag(admin, topic, groupId);
    } catch (error) {
      // kafkajs's admin does not retry an offset fetch that reached a coordinator still loading or no longer in
      // charge of the group (seen on a fresh Kafka 4.1 KRaft broker).
      if (attempt >= 5 || (error as { retriable?: boolean }).retriable !== true) throw error;
      await sleep(100 * attempt);
    }
  }
}

async function lag(admin: Admin, topic: string, groupId: string): Promise<number> {
  const [ends, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committed = new Map(
    (groups.find((group) => group.topic === topic)?.partitions ?? []).map((p) => [
      p.partition,
      Number(p.offset),
    ]),
  );
  let total = 0;
  for (const { partition, high, low } of ends) {
    const from = Math.max(committed.get(partition) ?? -1, Number(low));
    total += Math.max(0, Number(high) - from);
  }
  return total;
}

export interface KafkaGroupBacklogOptions extends Partial<Pick<KafkaClientOptions, 'clientId' | 'logger'>> {
  brokers: readonly string[];
  topic: string;
  groupId: string;
}

/** A consumer group's backlog seen from outside (what Subscriber.backlog() reports from inside), for tools. */
export async function kafkaGroupBacklog(options: KafkaGroupBacklogOptions): Promise<number> {
  const { brokers, topic, groupId, logger } = options;
  const clientId = options.clientId ?? 'tandem-backlog';
  const admin = createKafkaClient({ brokers, clientId, ...(logger ? { logger } : {}) }).admin();
  await admin.connect();
  try {
    return await groupLag(admin, topic, groupId);
  } finally {
    await admin.disconnect();
  }
}
