import { randomUUID } from 'node:crypto';
import type { Publisher, Subscriber } from '@tandem/brokers';
import type { CountingStore } from '@tandem/counting';
import { type Logger, onShutdown, startMetricsServer } from '@tandem/service';
import { Gauge } from 'prom-client';
import { createCountingHandler } from './handler.ts';
import { createLatencyRecorder, latencyRoutes } from './latency.ts';
import { readinessRoutes } from './ready.ts';
import { StoreWrites } from './store-writes.ts';

export interface ConsumerOptions {
  pipeline: string;
  subscriber: Subscriber;
  store: CountingStore;
  metricsPort: number;
  logger: Logger;
  /**
   * Where undecodable deliveries go (the dead-letter topic / queue), as they came, before the batch is
   * acknowledged; if that publish fails the batch is not acknowledged and comes again. Without one they are only
   * logged and counted.
   */
  deadLetters?: Publisher;
}

/**
 * Starts consuming into the store, serves /metrics, /health, /ready and /latency, and on SIGTERM drains: stop,
 * commit/ack, close. A batch held for a store that refuses writes is given back to the broker at once then.
 */
export async function runConsumer({
  pipeline,
  subscriber,
  store,
  metricsPort,
  logger,
  deadLetters,
}: ConsumerOptions): Promise<void> {
  new Gauge({
    name: 'consumer_backlog',
    help: 'Messages published but not yet acknowledged by this consumer (Kafka lag / RabbitMQ queue depth).',
    labelNames: ['pipeline'] as const,
    async collect() {
      this.set({ pipeline }, await subscriber.backlog().catch(() => Number.NaN));
    },
  });
  await store.ping();
  const latency = createLatencyRecorder(pipeline);
  const writes = new StoreWrites({ pipeline, log: logger });
  const stopping = new AbortController();
  const handler = createCountingHandler(store, {
    pipeline,
    latency,
    writes,
    signal: stopping.signal,
    onPoison: async (delivery, reason) => {
      // The id and the reason only: a poison record's bytes may be anything, and bodies are never logged.
      logger.warn(
        { id: delivery.id, reason, bytes: delivery.payload.length },
        deadLetters ? 'poison message dead-lettered' : 'poison message skipped',
      );
      await deadLetters?.publish([
        { id: delivery.id ?? `poison-${randomUUID()}`, payload: delivery.payload },
      ]);
    },
  });
  await subscriber.start(handler);
  const metrics = await startMetricsServer(metricsPort, {
    routes: {
      ...latencyRoutes(latency),
      ...readinessRoutes({ subscriber, writes, stopping: stopping.signal }),
    },
  });
  logger.info({ pipeline, metricsPort }, 'consuming');
  onShutdown(logger, async () => {
    stopping.abort();
    await subscriber.close();
    await deadLetters?.close();
    await store.close();
    metrics.close();
  });
}
