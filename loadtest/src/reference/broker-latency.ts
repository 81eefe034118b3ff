/**
 * The bench's latency floor under the brokers: how long Kafka and RabbitMQ themselves take to confirm at a given
 * rate, through tandem's own publishers (the ingest's adapters, options and message encoding), with none of
 * tandem's services in between. The ingest answers only when both brokers confirmed, so the slower of the two is
 * the least an accepted request waits for its 202; tandem's HTTP latency read beside it shows what tandem adds.
 *
 * Messages go out as the ingest sends them under single-message load: a group of `rate × groupEveryMs / 1000`
 * messages (one at least) every `groupEveryMs`, each group published to both brokers at once. The schedule is
 * open: a group whose confirms are late does not hold back the next. The Kafka topic and RabbitMQ queue are the
 * run's own (`tandem-bench-ref-<8 hex>`) and are removed afterwards, whatever happened.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createRabbitPublisher,
  type Envelope,
  kafkaAdapters,
  type Publisher,
  removeRabbitQueues,
} from '@tandem/brokers';
import type { KafkaClientName, KafkaConnection } from '@tandem/config';
import { ingestGatewayDefaults } from '@tandem/edge-api/ingest-gateway/contract';
import { referenceEnvelope } from './rabbitmq-publish.ts';

export interface BrokerLatencyOptions {
  kafka: KafkaConnection & { client: KafkaClientName; partitions: number };
  rabbitmqUrl: string;
  /** Messages per second. */
  rate: number;
  seconds: number;
  /**
   * One group every so many ms. Default: the edge's default EDGE_COALESCE_INTERVAL_MS (10), how often it sends a
   * gathered call under load. Rounded so that whole groups make the rate exactly; at low rates, longer, so that a
   * group holds one message at least.
   */
  groupEveryMs?: number;
}

/** Percentiles of one publisher's confirm latency over the groups, ms. */
export interface ConfirmLatency {
  p50: number;
  p99: number;
  max: number;
}

export interface BrokerLatencyResult {
  rate: number;
  seconds: number;
  /** As sent: the option, rounded to whole groups (see BrokerLatencyOptions). */
  groupEveryMs: number;
  /** Groups published (each to both brokers). */
  groups: number;
  messages: number;
  /** Group sent → confirmed, per broker, and until both confirmed (what the ingest waits for). */
  kafka: ConfirmLatency;
  rabbitmq: ConfirmLatency;
  both: ConfirmLatency;
  /** The Kafka topic's and the RabbitMQ queue's name (the same), both removed when the measurement ended. */
  resourceName: string;
}

/** The value at quantile q of ascending `sorted` (nearest rank); NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export function confirmLatency(samples: readonly number[]): ConfirmLatency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? Number.NaN };
}

export async function brokerLatencyAtRate(options: BrokerLatencyOptions): Promise<BrokerLatencyResult> {
  // At least one message a group: below 1000 / groupEveryMs msg/s the groups come less often instead.
  const perGroup = Math.max(
    1,
    Math.round((options.rate * (options.groupEveryMs ?? ingestGatewayDefaults.coalesceIntervalMs)) / 1000),
  );
  const groupEveryMs = (perGroup * 1000) / options.rate;
  const name = `tandem-bench-ref-${randomUUID().slice(0, 8)}`;
  const { client, partitions, ...connection } = options.kafka;
  const adapter = kafkaAdapters[client];
  const publishers: Publisher[] = [];
  try {
    await adapter.ensureTopic({ ...connection, topic: name, partitions });
    const kafka = await adapter.createPublisher({ ...connection, topic: name, clientId: 'bench-reference' });
    publishers.push(kafka);
    const rabbitmq = await createRabbitPublisher({ url: options.rabbitmqUrl, queue: name });
    publishers.push(rabbitmq);

    const latencies = { kafka: [] as number[], rabbitmq: [] as number[], both: [] as number[] };
    const timed = async (publisher: Publisher, envelopes: Envelope[], into: number[]) => {
      const sent = performance.now();
      await publisher.publish(envelopes);
      into.push(performance.now() - sent);
    };
    const sentGroups: Promise<void>[] = [];
    const groups = Math.max(1, Math.round((options.seconds * 1000) / groupEveryMs));
    const started = performance.now();
    let messages = 0;
    for (let group = 0; group < groups; group++) {
      const due = started + group * groupEveryMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const envelopes = Array.from({ length: perGroup }, () => referenceEnvelope(messages++));
      const sent = performance.now();
      const work = Promise.all([
        timed(kafka, envelopes, latencies.kafka),
        timed(rabbitmq, envelopes, latencies.rabbitmq),
      ]).then(() => {
        latencies.both.push(performance.now() - sent);
      });
      // Handled at the end, below; until then a refusal must not count as unhandled.
      work.catch(() => {});
      sentGroups.push(work);
    }
    // A broker that refused any group fails the reference: its latency would not be what tandem's messages see.
    await Promise.all(sentGroups);
    return {
      rate: options.rate,
      seconds: (performance.now() - started) / 1000,
      groupEveryMs,
      groups,
      messages,
      kafka: confirmLatency(latencies.kafka),
      rabbitmq: confirmLatency(latencies.rabbitmq),
      both: confirmLatency(latencies.both),
      resourceName: name,
    };
  } finally {
    await Promise.allSettled(publishers.map((publisher) => publisher.close()));
    await Promise.allSettled([
      adapter.removeResources({ ...connection, topics: [name], groupIds: [] }),
      removeRabbitQueues({ url: options.rabbitmqUrl, queues: [name] }),
    ]);
  }
}
