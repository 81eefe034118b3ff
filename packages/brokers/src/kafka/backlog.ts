import type { Admin } from 'kafkajs';
import { type Kept, keptConnection } from '../kept.ts';
import { silentLogger } from '../logger.ts';
import { isRetriableKafkaError, type RetryOptions, retrying } from '../retry.ts';
import { createKafkaClient, type KafkaAdminOptions, withKafkaAdmin } from './client.ts';

/**
 * The consumer group's lag on a topic: Σ over partitions of (high watermark − committed offset); a partition with
 * no commit yet counts from its low watermark (the group starts at the oldest record still kept). On a long-lived
 * admin (the subscriber's): retriable errors are retried for up to `retry.timeoutMs`, 5 s by default — kafkajs's
 * admin does not retry an offset fetch that reached a coordinator still loading or no longer in charge of the group
 * (seen on a fresh Kafka 4.1 KRaft broker, and after a restart).
 */
export function groupLag(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>,
  topic: string,
  groupId: string,
  retry: RetryOptions = { timeoutMs: 5_000 },
): Promise<number> {
  return retrying(() => lag(admin, topic, groupId), {
    ...retry,
    what: `kafka backlog of group ${groupId} on ${topic}`,
    isRetriable: isRetriableKafkaError,
  });
}

async function lag(
  admin: Pick<Admin, 'fetchTopicOffsets' | 'fetchOffsets'>,
  topic: string,
  groupId: string,
): Promise<number> {
  // Both settle before either failure is thrown: a request still in flight when the caller disconnects the admin
  // reopens a broker connection that nothing closes, and the process never exits (a missing topic did that).
  const [endsResult, groupsResult] = await Promise.allSettled([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  if (endsResult.status === 'rejected') throw endsResult.reason;
  if (groupsResult.status === 'rejected') throw groupsResult.reason;
  const [ends, groups] = [endsResult.value, groupsResult.value];
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

export interface KafkaGroupBacklogOptions extends KafkaAdminOptions {
  topic: string;
  groupId: string;
}

/**
 * A consumer group's backlog seen from outside (what Subscriber.backlog() reports from inside), for tools. Silent
 * unless given a logger: every failure rejects, and the tools report it, where kafkajs would log each of its retries.
 */
export function kafkaGroupBacklog(options: KafkaGroupBacklogOptions): Promise<number> {
  const { topic, groupId } = options;
  const client = {
    ...options,
    clientId: options.clientId ?? 'tandem-backlog',
    logger: options.logger ?? silentLogger,
  };
  // withKafkaAdmin retries what is retriable (NOT_COORDINATOR after a broker restart, …), on a fresh admin.
  return withKafkaAdmin(client, async (admin) => {
    // Asked first, because kafkajs retries its offset requests on a missing topic for ~10 s before it gives up.
    // Not retriable: the topic is not coming.
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`topic ${topic} does not exist (yet)`);
    return lag(admin, topic, groupId);
  });
}

/** kafkaGroupBacklog on an admin kept between calls (openKafkaBacklogReader). */
export interface KafkaBacklogReader {
  /** As kafkaGroupBacklog: the group's lag on the topic; rejects when the topic does not exist. */
  groupBacklog(topic: string, groupId: string): Promise<number>;
  /** Disconnects the admin; later reads reject. */
  close(): Promise<void>;
}

/**
 * kafkaGroupBacklog for a tool that asks again and again (the live comparison page, every second): one admin,
 * connected at the first read and kept, instead of a connection and a metadata round per read. An admin that failed
 * (its connect, or a read, for any reason but a missing topic) is disconnected and dropped; the next attempt — a
 * retriable error is retried within `retry`, as kafkaGroupBacklog does — or the next read connects a new one.
 */
export function openKafkaBacklogReader(options: KafkaAdminOptions): KafkaBacklogReader {
  const { brokers, sasl, clientId = 'tandem-backlog' } = options;
  const logger = options.logger ?? silentLogger;
  const createAdmin =
    options.createAdmin ?? (() => createKafkaClient({ brokers, sasl, clientId, logger }).admin());
  const admins = keptConnection<Admin>(
    async () => {
      const admin = createAdmin();
      try {
        await admin.connect();
      } catch (error) {
        await admin.disconnect().catch(() => {});
        throw error;
      }
      return admin;
    },
    (admin) => admin.disconnect(),
  );
  let closed = false;

  return {
    groupBacklog(topic, groupId) {
      return retrying(
        async () => {
          if (closed) throw new Error('the kafka backlog reader is closed');
          const which = admins.get();
          const admin = await which;
          // Asked first, as kafkaGroupBacklog does: kafkajs retries offset requests on a missing topic for ~10 s.
          const topics = await admin.listTopics().catch(dropping(admins, which));
          if (!topics.includes(topic)) throw new Error(`topic ${topic} does not exist (yet)`);
          return lag(admin, topic, groupId).catch(dropping(admins, which));
        },
        {
          ...options.retry,
          what: `kafka backlog of group ${groupId} on ${topic}`,
          isRetriable: isRetriableKafkaError,
        },
      );
    },
    async close() {
      closed = true;
      await admins.close();
    },
  };
}

/** A catch handler that drops the admin the call failed on, then rethrows. */
const dropping =
  (admins: Kept<Admin>, which: Promise<Admin>) =>
  async (error: unknown): Promise<never> => {
    await admins.drop(which);
    throw error;
  };
