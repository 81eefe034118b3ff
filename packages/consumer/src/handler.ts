/**
 * The batch handler both consumers run: decode every delivery, count the valid ones once in the store (one
 * pipelined round trip), and only then let the subscriber acknowledge. A record that cannot be decoded (poison)
 * is reported and skipped, never counted and never allowed to block the stream.
 */
import type { BatchHandler, Delivery } from '@tandem/brokers';
import type { CountingStore } from '@tandem/counting';
import { decodeMessage, PoisonMessageError, type WeatherMessage } from '@tandem/message';
import { Counter, Histogram } from 'prom-client';
import type { LatencyRecorder } from './latency.ts';

export interface CountingHandlerOptions {
  /** Label for metrics: `kafka-redis` or `rabbitmq-valkey`. */
  pipeline: string;
  /** Called for each undecodable delivery, before the batch is acknowledged. */
  onPoison?: (delivery: Delivery, reason: string) => Promise<void> | void;
  /** Gets each message's end-to-end latency once its batch is counted (the benchmark's HdrHistogram). */
  latency?: LatencyRecorder;
  now?: () => number;
}

const messagesTotal = new Counter({
  name: 'consumer_messages_total',
  help: 'Deliveries by outcome: counted (new id), duplicate (id already counted), poison (undecodable).',
  labelNames: ['pipeline', 'outcome'] as const,
});
const endToEndSeconds = new Histogram({
  name: 'consumer_end_to_end_seconds',
  help: 'From the ingest accepting a message to the store having counted it.',
  labelNames: ['pipeline'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});
const batchSize = new Histogram({
  name: 'consumer_batch_size',
  help: 'Deliveries per batch handed to the store.',
  labelNames: ['pipeline'] as const,
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
});

export function createCountingHandler(store: CountingStore, options: CountingHandlerOptions): BatchHandler {
  const now = options.now ?? Date.now;
  const { pipeline } = options;
  return async (batch) => {
    const messages: WeatherMessage[] = [];
    for (const delivery of batch) {
      try {
        messages.push(decodeMessage(delivery.payload));
      } catch (error) {
        if (!(error instanceof PoisonMessageError)) throw error;
        await options.onPoison?.(delivery, error.message);
        messagesTotal.inc({ pipeline, outcome: 'poison' });
      }
    }
    const result = await store.apply(messages);
    const countedAt = now();
    batchSize.observe({ pipeline }, batch.length);
    messagesTotal.inc({ pipeline, outcome: 'counted' }, result.counted);
    messagesTotal.inc({ pipeline, outcome: 'duplicate' }, result.duplicates);
    for (const message of messages) {
      endToEndSeconds.observe({ pipeline }, Math.max(0, countedAt - message.acceptedAt) / 1000);
      options.latency?.record(message.acceptedAt, countedAt);
    }
  };
}
