import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { type KafkaClientOptions, withKafkaAdmin } from './client.ts';

export interface EnsureKafkaTopicOptions extends Partial<Pick<KafkaClientOptions, 'clientId' | 'logger'>> {
  brokers: readonly string[];
  topic: string;
  partitions: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** How long to wait for every partition to have a leader. Default 30000. */
  leaderTimeoutMs?: number;
}

/**
 * Creates the topic if it is missing and waits for its partition leaders. Safe to call from several services at
 * once. Resolves true if this call created it; an existing topic is left as it is (its partition count too).
 */
export function ensureKafkaTopic(options: EnsureKafkaTopicOptions): Promise<boolean> {
  return withKafkaAdmin(options, (admin) => createTopicWithLeaders(admin, options));
}

/** ensureKafkaTopic's work on a connected admin; exported for its tests. */
export async function createTopicWithLeaders(
  admin: Pick<Admin, 'createTopics' | 'fetchTopicMetadata'>,
  options: Pick<EnsureKafkaTopicOptions, 'topic' | 'partitions' | 'replicationFactor' | 'leaderTimeoutMs'>,
): Promise<boolean> {
  const { topic, partitions, replicationFactor } = options;
  // Not kafkajs's waitForLeaders (on unless turned off): it gives up when the metadata of a topic created a moment
  // ago still says UNKNOWN_TOPIC_OR_PARTITION, as a fresh broker's does when several clients create topics at once.
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: replicationFactor ?? -1 }],
    waitForLeaders: false,
  });
  await waitForLeaders(admin, topic, options.leaderTimeoutMs ?? 30_000);
  return created;
}

/**
 * Resolves once every partition of `topic` has a leader, retrying whatever Kafka calls retriable. Exported for its
 * tests.
 */
export async function waitForLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 1000)) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const leaders = topics[0]?.partitions.map((partition) => partition.leader) ?? [];
      if (leaders.length > 0 && leaders.every((leader) => leader >= 0)) return;
      last = new Error(`partitions without a leader: ${leaders.filter((leader) => leader < 0).length}`);
    } catch (error) {
      if (!(error as { retriable?: boolean }).retriable) throw error;
      last = error;
    }
    await sleep(delay);
  }
  throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms`, { cause: last });
}
