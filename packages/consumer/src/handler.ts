/**
 * The batch handler both consumers run: decode every delivery, count the valid ones once in the store (one
 * pipelined round trip), and only then let the subscriber acknowledge. A record that cannot be decoded (poison)
 * is reported and skipped, never counted and never allowed to block the stream.
 *
 * A store that refuses writes (OOM at maxmemory, READONLY on a replica) is waited for: the handler keeps the batch
 * — unacknowledged — and applies it again after a back-off that grows to a bound, for as long as `maxHoldMs`;
 * then it rejects, the broker delivers the batch again and the waiting goes on. Any other failure rejects at once,
 * and the subscriber's own back-off applies.
 */
import { setTimeout as timer } from 'node:timers/promises';
import type { BatchHandler, Delivery } from '@tandem/brokers';
import { type ApplyResult, type CountingStore, writeRefusalOf } from '@tandem/counting';
import { decodeMessage, PoisonMessageError, type WeatherMessage } from '@tandem/message';
import { Counter, Histogram } from 'prom-client';
import type { LatencyRecorder } from './latency.ts';
import { StoreWrites } from './store-writes.ts';

export interface CountingHandlerOptions {
  /** Label for metrics: `kafka-redis` or `rabbitmq-valkey`. */
  pipeline: string;
  /** Called for each undecodable delivery, before the batch is acknowledged. */
  onPoison?: (delivery: Delivery, reason: string) => Promise<void> | void;
  /** Gets each message's end-to-end latency once its batch is counted (the benchmark's HdrHistogram). */
  latency?: LatencyRecorder;
  /** Whether the store takes writes, with its back-off and reports; shared with /ready. Default: the handler's own. */
  writes?: StoreWrites;
  /**
   * The longest one batch is held while the store refuses writes (ms), before it is given back to the broker to
   * come again: a RabbitMQ delivery unacknowledged for 30 min (`consumer_timeout`) closes its channel. Default
   * 30 000.
   */
  maxHoldMs?: number;
  /** Aborted when the consumer stops: a batch held for a refusing store is given back at once. */
  signal?: AbortSignal;
  /** Waits between two attempts; rejects when `signal` is aborted. Default a timer (tests pass a fake). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export const countingHandlerDefaults = { maxHoldMs: 30_000 } as const;

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
  const { pipeline, signal } = options;
  const writes = options.writes ?? new StoreWrites({ pipeline, now });
  const maxHoldMs = options.maxHoldMs ?? countingHandlerDefaults.maxHoldMs;
  const sleep =
    options.sleep ?? ((ms: number, abort?: AbortSignal) => timer(ms, undefined, { signal: abort }));

  /** Applies the batch, holding it while the store refuses writes (see the top of this file). */
  async function applyHolding(messages: readonly WeatherMessage[]): Promise<ApplyResult> {
    // Nothing to write says nothing about whether the store takes writes.
    if (messages.length === 0) return store.apply(messages);
    const heldSince = now();
    for (;;) {
      try {
        const result = await store.apply(messages);
        writes.accepted();
        return result;
      } catch (error) {
        const reason = writeRefusalOf(error);
        if (!reason) throw error;
        const delayMs = writes.refused(reason, error);
        // Given back to the broker: stopping, or held long enough. The streak's back-off goes on when it returns.
        if (signal?.aborted || now() - heldSince + delayMs > maxHoldMs) throw error;
        try {
          await sleep(delayMs, signal);
        } catch {
          throw error;
        }
      }
    }
  }

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
    const result = await applyHolding(messages);
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
