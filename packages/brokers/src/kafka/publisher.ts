import { Partitioners } from 'kafkajs';
import { createCoalescer } from '../coalesce.ts';
import type { Envelope, Publisher, PublisherOptions } from '../contract.ts';
import { BrokerUnavailableError } from '../errors.ts';
import { createKafkaClient, type KafkaClientOptions } from './client.ts';

export interface KafkaPublisherOptions extends PublisherOptions, KafkaClientOptions {
  topic: string;
  /**
   * How many times kafkajs retries a failed send before the publish rejects (its default: 5, with exponential
   * backoff from 300 ms). Setting it makes kafkajs warn that limited retries "may invalidate EoS guarantees": true
   * of its producer alone, and the reason counting is idempotent by id here.
   */
  retries?: number;
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

export const kafkaPublisherDefaults = { lingerMs: 5, maxBatch: 500 } as const;

/**
 * An idempotent producer (acks=all; kafkajs allows one request in flight for idempotence) whose concurrent
 * publish() calls share requests: record key = envelope id, value = payload. Resolves once connected.
 */
export async function createKafkaPublisher(options: KafkaPublisherOptions): Promise<KafkaPublisher> {
  const { topic, retries } = options;
  const lingerMs = options.lingerMs ?? kafkaPublisherDefaults.lingerMs;
  const maxBatch = options.maxBatch ?? kafkaPublisherDefaults.maxBatch;
  const kafka = createKafkaClient(options);
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...(retries === undefined ? {} : { retry: { retries } }),
  });
  const stats: KafkaPublisherStats = { calls: 0, envelopes: 0, sends: 0, produceRequests: 0 };
  producer.on(producer.events.REQUEST, ({ payload }) => {
    if (payload.apiName === 'Produce') stats.produceRequests += 1;
  });

  const outgoing = createCoalescer<Envelope>({
    lingerMs,
    maxBatch,
    async send(envelopes) {
      stats.sends += 1;
      await producer.send({
        topic,
        acks: -1,
        messages: envelopes.map((envelope) => ({ key: envelope.id, value: envelope.payload })),
      });
    },
  });

  await producer.connect();
  let state: 'open' | 'closing' | 'closed' = 'open';
  let closed: Promise<void> | undefined;

  return {
    publish(envelopes) {
      if (state !== 'open') {
        return Promise.reject(new BrokerUnavailableError('kafka', 'the publisher is closed'));
      }
      stats.calls += 1;
      stats.envelopes += envelopes.length;
      return outgoing.add(envelopes);
    },
    // kafkajs reconnects on the next send by itself and reports no outage in between, so this says only that the
    // producer is connected and open; a broker that is down shows as publish() rejecting.
    isReady: () => state === 'open',
    stats: () => ({ ...stats }),
    close() {
      closed ??= (async () => {
        state = 'closing';
        await outgoing.drain();
        await producer.disconnect();
        state = 'closed';
      })();
      return closed;
    },
  };
}
