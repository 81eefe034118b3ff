// Creating a topic and waiting for its leaders, with a scripted admin: the metadata answers a fresh broker gives in
// turn.
import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createTopicWithLeaders, waitForLeaders } from '../src/kafka/topic.ts';

type Answer = number[] | Error;
const unknownTopic = Object.assign(new Error('This server does not host this topic-partition'), {
  retriable: true,
  type: 'UNKNOWN_TOPIC_OR_PARTITION',
});

function scriptedAdmin(answers: Answer[]): Pick<Admin, 'fetchTopicMetadata'> & { calls: number } {
  const admin = {
    calls: 0,
    async fetchTopicMetadata() {
      const answer = answers[Math.min(admin.calls, answers.length - 1)] as Answer;
      admin.calls += 1;
      if (answer instanceof Error) throw answer;
      const partitions = answer.map((leader, partitionId) => ({
        partitionErrorCode: 0,
        partitionId,
        leader,
        replicas: [1],
        isr: [1],
      }));
      return { topics: [{ name: 't', partitions }] };
    },
  };
  return admin;
}

describe('waitForLeaders', () => {
  it('waits through an unknown topic and leaderless partitions until every partition has a leader', async () => {
    const admin = scriptedAdmin([unknownTopic, unknownTopic, [1, -1, 1], [1, 1, 1]]);
    await waitForLeaders(admin, 't', 5_000);
    expect(admin.calls).toBe(4);
  });

  it('gives up at once on an error Kafka does not call retriable', async () => {
    const admin = scriptedAdmin([new Error('authorization failed')]);
    await expect(waitForLeaders(admin, 't', 5_000)).rejects.toThrow('authorization failed');
    expect(admin.calls).toBe(1);
  });

  it('gives up after its timeout, naming the topic and keeping the last reason', async () => {
    const admin = scriptedAdmin([[-1, -1]]);
    const error = await waitForLeaders(admin, 't', 300).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(error.message).toMatch(
      /^topic t has no leader for every partition after 300 ms \(\d+ attempts\)$/,
    );
    expect((error.cause as Error).message).toBe('partitions without a leader: 2');
  });
});

describe('createTopicWithLeaders', () => {
  it("creates without kafkajs's own leader wait, then waits through an unknown topic itself", async () => {
    const created: unknown[] = [];
    const metadata = scriptedAdmin([unknownTopic, unknownTopic, [1, 1]]);
    const admin = {
      fetchTopicMetadata: metadata.fetchTopicMetadata,
      async createTopics(options: unknown) {
        created.push(options);
        return true;
      },
    };
    expect(await createTopicWithLeaders(admin, { topic: 't', partitions: 2, leaderTimeoutMs: 5_000 })).toBe(
      true,
    );
    // kafkajs waits for leaders unless told not to, and bails on the first UNKNOWN_TOPIC_OR_PARTITION.
    expect(created).toEqual([
      { topics: [{ topic: 't', numPartitions: 2, replicationFactor: -1 }], waitForLeaders: false },
    ]);
    expect(metadata.calls).toBe(3);
  });
});
