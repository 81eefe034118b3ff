/**
 * Kafka behaviour both adapters must show beyond the shared conformance suite, against the local stack's broker:
 * kafka.test.ts runs it on kafkajs, platformatic.test.ts on @platformatic/kafka.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { kafkaConnectionFromEnv } from '@tandem/config';
import { expect, it } from 'vitest';
import type { KafkaAdapter } from '../src/index.ts';
import { testLogger as logger, suffix } from './support.ts';

const connection = kafkaConnectionFromEnv();

export function kafkaBehaviour(kafka: KafkaAdapter): void {
  it('stays in its group while the handler holds a batch longer than the session timeout', async () => {
    const name = suffix();
    const topic = `brokers-test-${name}`;
    await kafka.ensureTopic({ ...connection, topic, partitions: 3, logger });
    const publisher = await kafka.createPublisher({
      ...connection,
      topic,
      clientId: name,
      lingerMs: 5,
      logger,
    });
    const sent = Array.from({ length: 30 }, (_, i) => ({ id: `h-${i}`, payload: Buffer.from(String(i)) }));
    await publisher.publish(sent);
    await publisher.close();

    // 6 s is the broker's smallest allowed session (group.min.session.timeout.ms).
    const sessionTimeoutMs = 6000;
    const subscriber = await kafka.createSubscriber({
      ...connection,
      topic,
      groupId: name,
      clientId: name,
      sessionTimeoutMs,
      logger,
    });
    const seen: (string | undefined)[] = [];
    let held = false;
    await subscriber.start(async (deliveries) => {
      if (!held) {
        held = true;
        // A store refusing writes, retried for twice the session.
        await sleep(2 * sessionTimeoutMs);
      }
      seen.push(...deliveries.map((d) => d.id));
    });
    const deadline = Date.now() + 40_000;
    while (seen.length < sent.length && Date.now() < deadline) await sleep(100);
    // A member dropped from the group would rejoin and read the held records again from the committed offset.
    await sleep(3000);
    const ready = subscriber.isReady();
    await subscriber.close();
    await kafka.removeResources({ ...connection, topics: [topic], groupIds: [name], logger });

    expect(held).toBe(true);
    expect(seen.sort()).toEqual(sent.map((e) => e.id).sort());
    expect(ready).toBe(true);
  }, 60_000);
}
