import type { Admin } from '@platformatic/kafka';
import type { EnsureKafkaTopicOptions } from '../kafka/topic.ts';
import { RetriesExhaustedError, retrying } from '../retry.ts';
import { isRetriableForKnownTopic, protocolErrorIds, withPlatformaticAdmin } from './client.ts';

/**
 * ensureKafkaTopic's twin: creates the topic if it is missing and waits until every partition has a leader. Safe
 * to call from several services at once; resolves true if this call created it. An existing topic is left as it is.
 */
export function ensurePlatformaticKafkaTopic(options: EnsureKafkaTopicOptions): Promise<boolean> {
  const { topic, partitions, replicationFactor } = options;
  return withPlatformaticAdmin(options, async (admin) => {
    let created = true;
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: replicationFactor ?? -1 });
    } catch (error) {
      // Another service (or an earlier attempt of this one) created it first.
      if (!protocolErrorIds(error).includes('TOPIC_ALREADY_EXISTS')) throw error;
      created = false;
    }
    await waitForLeaders(admin, topic, options.leaderTimeoutMs ?? 30_000);
    return created;
  });
}

class LeadersMissing extends Error {
  override name = 'LeadersMissing';
}

async function waitForLeaders(admin: Admin, topic: string, timeoutMs: number): Promise<void> {
  try {
    await retrying(
      async () => {
        const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
        const leaders = metadata.topics.get(topic)?.partitions.map((partition) => partition.leader) ?? [];
        if (leaders.length === 0 || leaders.some((leader) => leader < 0)) {
          throw new LeadersMissing(`partitions without a leader: ${leaders.filter((l) => l < 0).length}`);
        }
      },
      {
        what: `leaders of topic ${topic}`,
        timeoutMs,
        initialDelayMs: 50,
        maxDelayMs: 1000,
        isRetriable: (error) => error instanceof LeadersMissing || isRetriableForKnownTopic(error),
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
