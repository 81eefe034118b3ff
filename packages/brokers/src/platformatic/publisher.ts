import { Admin, Producer } from '@platformatic/kafka';
import { createCoalescer } from '../coalesce.ts';
import type { Envelope } from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import { watchKafkaAvailability } from '../kafka/availability.ts';
import {
  type KafkaPublisher,
  type KafkaPublisherOptions,
  type KafkaPublisherStats,
  kafkaPublisherDefaults,
} from '../kafka/publisher.ts';
import { stderrLogger } from '../logger.ts';
import { keyHash } from '../murmur2.ts';
import { retrying } from '../retry.ts';
import { explainPlatformaticError, isUnknownTopicError, platformaticBaseOptions } from './client.ts';

/**
 * kafkajs's defaults for a producer's send retries. The library pauses the same delay before every retry where
 * kafkajs doubles it, so a send to a broker that is away gives up sooner here (5 × 300 ms = 1.5 s, kafkajs ~9 s).
 * A doubling delay (the library takes a function) would also slow its retries of a refused login, which it deems
 * retriable.
 */
const defaultSendRetries = 5;
const defaultSendRetryDelayMs = 300;

/**
 * createKafkaPublisher's twin on @platformatic/kafka, with the same options and the same contract: an idempotent
 * producer (acks=all, one request in flight per broker: the library enforces both for idempotence) whose concurrent
 * publish() calls share requests through the same coalescer; record key = envelope id, value = payload. Resolves
 * once the broker answered (a wrong login rejects here).
 *
 * Keys are partitioned as kafkajs and the Java client do (murmur2 masked to 31 bits, as the library's
 * compatibilityPartitioner; platformaticKeyPartitioner below), so that a topic written by both adapters keeps each id
 * in one partition.
 *
 * The library reconnects by itself and reports no outage between sends either, so the broker's availability is
 * tracked as in the kafkajs adapter (kafka/availability.ts), probed with a metadata request for the topic on a
 * client of its own (one attempt); while it fails, publish() rejects at once with BrokerUnavailableError and
 * isReady() is false. After a failed send the library itself drops its producer id and sequence numbers, so the
 * next send starts a fresh idempotent session (records the failed send stored after all come again under the new
 * id: counting is idempotent by message id).
 */
export async function createPlatformaticKafkaPublisher(
  options: KafkaPublisherOptions,
): Promise<KafkaPublisher> {
  const { topic } = options;
  const logger = options.logger ?? stderrLogger;
  const lingerMs = options.lingerMs ?? kafkaPublisherDefaults.lingerMs;
  const maxBatch = options.maxBatch ?? kafkaPublisherDefaults.maxBatch;
  const probeIntervalMs = options.probeIntervalMs ?? kafkaPublisherDefaults.probeIntervalMs;
  const healthCheckIntervalMs = options.healthCheckIntervalMs ?? kafkaPublisherDefaults.healthCheckIntervalMs;
  const stats: KafkaPublisherStats = { calls: 0, envelopes: 0, sends: 0, produceRequests: 0 };
  const producer = new Producer({
    ...platformaticBaseOptions(options, {
      // Left unset, the library retries an idempotent producer's send forever.
      retries: options.retries ?? defaultSendRetries,
      retryDelayMs: options.retryDelayMs ?? defaultSendRetryDelayMs,
    }),
    idempotent: true,
    acks: -1,
    partitioner: platformaticKeyPartitioner,
  });
  const probe = new Admin(
    platformaticBaseOptions(
      { ...options, requestTimeoutMs: Math.min(options.requestTimeoutMs ?? 5000, 5000) },
      { retries: 0 },
    ),
  );

  try {
    // Connects, logs in and starts the idempotent session now: a wrong password or an unreachable broker stops
    // the caller at start-up, as the kafkajs adapter's connect() does.
    await retrying(() => producer.metadata({ topics: [topic] }), {
      what: `metadata of topic ${topic}`,
      timeoutMs: 10_000,
      isRetriable: isUnknownTopicError,
    });
    await producer.initIdempotentProducer({});
  } catch (error) {
    await Promise.all([producer.close().catch(() => {}), probe.close().catch(() => {})]);
    throw explainPlatformaticError(error);
  }
  // Probing and publishing start once connected.
  const availability = watchKafkaAvailability({
    topic,
    logger,
    probeIntervalMs,
    healthCheckIntervalMs,
    reachable,
  });

  const outgoing = createCoalescer<Envelope>({
    lingerMs,
    maxBatch,
    async send(envelopes) {
      const unavailable = availability.unavailable;
      if (unavailable) throw new BrokerUnavailableError('kafka', `unreachable (${unavailable.message})`);
      stats.sends += 1;
      // One Produce request per leader broker a send reaches; the library's retries are not counted.
      stats.produceRequests += 1;
      try {
        await producer.send({
          messages: envelopes.map((envelope) => ({
            topic,
            key: Buffer.from(envelope.id),
            value: envelope.payload,
          })),
        });
      } catch (error) {
        availability.markUnavailable(error);
        throw new BrokerUnavailableError('kafka', `send failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  });
  let closed: Promise<void> | undefined;

  async function reachable(): Promise<Error | undefined> {
    try {
      const metadata = await probe.metadata({ topics: [topic], forceUpdate: true });
      const partitions = metadata.topics.get(topic)?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return undefined;
      return new Error(`topic ${topic} has a partition without a leader`);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  return {
    publish(envelopes) {
      const refusal = availability.refusal();
      if (refusal) return Promise.reject(refusal);
      stats.calls += 1;
      stats.envelopes += envelopes.length;
      return outgoing.add(envelopes);
    },
    isReady: () => availability.isReady(),
    stats: () => ({ ...stats }),
    close() {
      closed ??= (async () => {
        const probing = availability.stop();
        await outgoing.drain();
        await probing;
        await probe.close().catch(() => {});
        await producer.close();
      })();
      return closed;
    },
  };
}

/**
 * The library's compatibilityPartitioner (murmur2 masked to 31 bits; the library takes it modulo the partitions)
 * with ../murmur2.ts in place of the library's BigInt murmur2: the same partition for every key, cheaper.
 */
export function platformaticKeyPartitioner(_message: unknown, key: unknown): number {
  return Buffer.isBuffer(key) ? keyHash(key) : 0;
}
