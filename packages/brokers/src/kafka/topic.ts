import type { Admin } from 'kafkajs';
import { isRetriableKafkaError, RetriesExhaustedError, retrying } from '../retry.ts';
import { type KafkaAdminOptions, withKafkaAdmin } from './client.ts';

export interface EnsureKafkaTopicOptions extends KafkaAdminOptions {
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
 * A retriable error of the creation (a broker away, no controller yet) is retried by withKafkaAdmin.
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

class LeadersMissing extends Error {
  override name = 'LeadersMissing';
}

/**
 * Resolves once every partition of `topic` has a leader, retrying (the shared bounded retry, with `timeoutMs` as
 * its bound) whatever Kafka calls retriable and partitions without a leader yet. Exported for its tests.
 */
export async function waitForLeaders(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topic: string,
  timeoutMs: number,
): Promise<void> {
  try {
    await retrying(
      async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const leaders = topics[0]?.partitions.map((partition) => partition.leader) ?? [];
        if (leaders.length === 0 || leaders.some((leader) => leader < 0)) {
          throw new LeadersMissing(
            `partitions without a leader: ${leaders.filter((leader) => leader < 0).length}`,
          );
        }
      },
      {
        what: `leaders of topic ${topic}`,
        timeoutMs,
        initialDelayMs: 50,
        maxDelayMs: 1000,
        isRetriable: (error) => error instanceof LeadersMissing || isRetriableKafkaError(error),
      },
    );
  } catch (error) {
    if (!(error instanceof RetriesExhaustedError)) throw error;
    throw new Error(
      `topic ${topic} has no leader for every partition after ${timeoutMs} ms (${error.attempts} attempts)`,
      { cause: error.cause },
    );
  }
}
