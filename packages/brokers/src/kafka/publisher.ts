import type { Admin, Producer } from 'kafkajs';
import { createCoalescer } from '../coalesce.ts';
import type { Envelope, Publisher, PublisherOptions } from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import { stderrLogger } from '../logger.ts';
import { watchKafkaAvailability } from './availability.ts';
import { createKafkaClient, type KafkaClientOptions } from './client.ts';
import { keyPartitioner } from './partitioner.ts';

export interface KafkaPublisherOptions extends PublisherOptions, KafkaClientOptions {
  topic: string;
  /**
   * How many times kafkajs retries a failed send before the publish rejects (its default: 5, with exponential
   * backoff from 300 ms). Setting it makes kafkajs warn that limited retries "may invalidate EoS guarantees": true
   * of its producer alone, and the reason counting is idempotent by id here.
   */
  retries?: number;
  /** The first pause between send retries (ms), doubling up to 30 s (kafkajs's default: 300). */
  retryDelayMs?: number;
  /** While the broker is unreachable, the first pause between two probes of it (ms), doubling up to 2 s. Default 250. */
  probeIntervalMs?: number;
  /** While it is reachable, how often the broker is probed anyway (ms), so that an outage shows without traffic. Default 1000. */
  healthCheckIntervalMs?: number;
}

export interface KafkaPublisherStats {
  /** publish() calls accepted. */
  calls: number;
  envelopes: number;
  /** producer.send() calls: coalesced batches. */
  sends: number;
  /** Produce requests kafkajs actually sent to a broker (from its instrumentation events), retries included. */
  produceRequests: number;
}

export interface KafkaPublisher extends Publisher {
  stats(): KafkaPublisherStats;
}

/**
 * Defined here only: grpc-ingest's PUBLISH_LINGER_MS and PUBLISH_MAX_BATCH default to lingerMs and maxBatch. A
 * linger of 0 still gathers the calls of one event-loop turn, and everything that arrives while a send is out.
 */
export const kafkaPublisherDefaults = {
  lingerMs: 0,
  maxBatch: 500,
  probeIntervalMs: 250,
  healthCheckIntervalMs: 1000,
} as const;

/**
 * An idempotent producer (acks=all; kafkajs allows one request in flight for idempotence) whose concurrent
 * publish() calls share requests: record key = envelope id, value = payload. Resolves once connected.
 *
 * kafkajs reports no outage between sends, so the broker's availability is tracked by availability.ts, probed
 * with a metadata request for the topic (every partition with a leader) on a client of its own: while it is
 * unreachable, publish() rejects at once with BrokerUnavailableError and isReady() is false.
 */
export async function createKafkaPublisher(options: KafkaPublisherOptions): Promise<KafkaPublisher> {
  const { topic, retries, retryDelayMs } = options;
  const logger = options.logger ?? stderrLogger;
  const lingerMs = options.lingerMs ?? kafkaPublisherDefaults.lingerMs;
  const maxBatch = options.maxBatch ?? kafkaPublisherDefaults.maxBatch;
  const probeIntervalMs = options.probeIntervalMs ?? kafkaPublisherDefaults.probeIntervalMs;
  const healthCheckIntervalMs = options.healthCheckIntervalMs ?? kafkaPublisherDefaults.healthCheckIntervalMs;
  const kafka = createKafkaClient(options);
  const retry = {
    ...(retries === undefined ? {} : { retries }),
    ...(retryDelayMs === undefined ? {} : { initialRetryTime: retryDelayMs }),
  };
  const stats: KafkaPublisherStats = { calls: 0, envelopes: 0, sends: 0, produceRequests: 0 };
  const newProducer = (): Producer => {
    const created = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: keyPartitioner,
      ...(Object.keys(retry).length === 0 ? {} : { retry }),
    });
    created.on(created.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Produce') stats.produceRequests += 1;
    });
    return created;
  };
  let producer = newProducer();
  /**
   * Set when a send failed. The idempotent producer's sequence numbers are then in doubt: after a broker restart
   * kafkajs 2.2.4 was seen to get OUT_OF_ORDER_SEQUENCE_NUMBER on every send that followed, for close to a minute.
   * So the next send first replaces the producer: a new producer id, sequences from 0. Records the failed send
   * stored after all come again under the new id; counting is idempotent by message id.
   */
  let replaceProducer = false;
  // The probe's own client: one attempt per probe; availability.ts's loop does the retrying.
  let probeAdmin: Admin | undefined;

  await producer.connect();
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
      // Gathered before the broker was found unreachable: fail them now rather than each after its own retries.
      const unavailable = availability.unavailable;
      if (unavailable) throw new BrokerUnavailableError('kafka', `unreachable (${unavailable.message})`);
      stats.sends += 1;
      try {
        if (replaceProducer) {
          await producer.disconnect().catch(() => {});
          producer = newProducer();
          await producer.connect();
          replaceProducer = false;
        }
        await producer.send({
          topic,
          acks: -1,
          messages: envelopes.map((envelope) => ({ key: envelope.id, value: envelope.payload })),
        });
      } catch (error) {
        replaceProducer = true;
        availability.markUnavailable(error);
        throw new BrokerUnavailableError('kafka', `send failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
  });
  let closed: Promise<void> | undefined;

  /** The broker answers a metadata request for the topic, and every partition has a leader. */
  async function reachable(): Promise<Error | undefined> {
    try {
      probeAdmin ??= createKafkaClient({
        ...options,
        logger,
        requestTimeoutMs: Math.min(options.requestTimeoutMs ?? 5000, 5000),
        clientRetries: 0,
      }).admin({ retry: { retries: 0 } });
      await probeAdmin.connect();
      const { topics } = await probeAdmin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
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
        await probeAdmin?.disconnect().catch(() => {});
        await producer.disconnect();
      })();
      return closed;
    },
  };
}
