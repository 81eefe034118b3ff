import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, compatibilityPartitioner, Producer } from '@platformatic/kafka';
import { createCoalescer } from '../coalesce.ts';
import type { Envelope } from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import {
  type KafkaPublisher,
  type KafkaPublisherOptions,
  type KafkaPublisherStats,
  kafkaPublisherDefaults,
} from '../kafka/publisher.ts';
import { stderrLogger } from '../logger.ts';
import { retrying } from '../retry.ts';
import { explainPlatformaticError, isUnknownTopicError, platformaticBaseOptions } from './client.ts';

/** kafkajs's defaults for a producer's send retries, so that the two adapters give up alike. */
const defaultSendRetries = 5;
const defaultSendRetryDelayMs = 300;

/**
 * createKafkaPublisher's twin on @platformatic/kafka, with the same options and the same contract: an idempotent
 * producer (acks=all, one request in flight per broker: the library enforces both for idempotence) whose concurrent
 * publish() calls share requests through the same coalescer; record key = envelope id, value = payload. Resolves
 * once the broker answered (a wrong login rejects here).
 *
 * Keys are partitioned as kafkajs and the Java client do (murmur2 masked to 31 bits, the library's
 * compatibilityPartitioner), so that a topic written by both adapters keeps each id in one partition.
 *
 * The library reconnects by itself and reports no outage between sends either, so the broker is probed here as in
 * the kafkajs adapter: every healthCheckIntervalMs, and after a failed send, a metadata request for the topic on a
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
    partitioner: compatibilityPartitioner,
  });
  const probe = new Admin(
    platformaticBaseOptions(
      { ...options, requestTimeoutMs: Math.min(options.requestTimeoutMs ?? 5000, 5000) },
      { retries: 0 },
    ),
  );
  let unavailable: Error | undefined;
  let state: 'open' | 'closing' | 'closed' = 'open';

  const outgoing = createCoalescer<Envelope>({
    lingerMs,
    maxBatch,
    async send(envelopes) {
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
        markUnavailable(error);
        throw new BrokerUnavailableError('kafka', `send failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  });

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
  let closed: Promise<void> | undefined;

  function markUnavailable(error: unknown): void {
    if (state !== 'open') return;
    if (!unavailable)
      logger.warn({ topic, err: error }, 'kafka unavailable: publishes rejected until it answers');
    unavailable = error instanceof Error ? error : new Error(String(error));
  }

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

  async function monitor(signal: AbortSignal): Promise<void> {
    let delay = probeIntervalMs;
    while (state === 'open') {
      try {
        await sleep(unavailable ? delay : healthCheckIntervalMs, undefined, { signal, ref: false });
      } catch {
        return; // closing
      }
      const error = await reachable();
      if (state !== 'open') return;
      if (error === undefined) {
        if (unavailable) logger.info({ topic }, 'kafka reachable again: publishing');
        unavailable = undefined;
        delay = probeIntervalMs;
      } else if (unavailable) {
        delay = Math.min(delay * 2, 2000);
      } else {
        markUnavailable(error);
      }
    }
  }
  const stopMonitor = new AbortController();
  const monitoring = monitor(stopMonitor.signal);

  return {
    publish(envelopes) {
      if (state !== 'open') {
        return Promise.reject(new BrokerUnavailableError('kafka', 'the publisher is closed'));
      }
      if (unavailable) {
        return Promise.reject(
          new BrokerUnavailableError('kafka', `unreachable (${unavailable.message}); retry later`),
        );
      }
      stats.calls += 1;
      stats.envelopes += envelopes.length;
      return outgoing.add(envelopes);
    },
    isReady: () => state === 'open' && !unavailable,
    stats: () => ({ ...stats }),
    close() {
      closed ??= (async () => {
        state = 'closing';
        stopMonitor.abort();
        await outgoing.drain();
        await monitoring;
        await probe.close().catch(() => {});
        await producer.close();
        state = 'closed';
      })();
      return closed;
    },
  };
}
