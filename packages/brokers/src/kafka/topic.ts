import { createKafkaClient, type KafkaClientOptions } from './client.ts';

export interface EnsureKafkaTopicOptions extends Partial<Pick<KafkaClientOptions, 'clientId' | 'logger'>> {
  brokers: readonly string[];
  topic: string;
  partitions: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
}

/**
 * Creates the topic if it is missing and waits for its partition leaders. Safe to call from several services at
 * once. Resolves true if this call created it; an existing topic is left as it is (its partition count too).
 */
export async function ensureKafkaTopic(options: EnsureKafkaTopicOptions): Promise<boolean> {
  const { topic, partitions, replicationFactor } = options;
  const { brokers, logger } = options;
  const clientId = options.clientId ?? 'tandem-admin';
  const admin = createKafkaClient({ brokers, clientId, ...(logger ? { logger } : {}) }).admin();
  await admin.connect();
  try {
    return await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: partitions, replicationFactor: replicationFactor ?? -1 }],
    });
  } finally {
    await admin.disconnect();
  }
}
