import type { Subscriber } from '@tandem/brokers';
import type { CountingStore } from '@tandem/counting';
import { type Logger, onShutdown, startMetricsServer } from '@tandem/service';
import { Gauge } from 'prom-client';
import { createCountingHandler } from './handler.ts';

export interface ConsumerOptions {
  pipeline: string;
  subscriber: Subscriber;
  store: CountingStore;
  metricsPort: number;
  logger: Logger;
}

/** Starts consuming into the store, serves metrics, and on SIGTERM drains: stop, commit/ack, close. */
export async function runConsumer({
  pipeline,
  subscriber,
  store,
  metricsPort,
  logger,
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
  const handler = createCountingHandler(store, {
    pipeline,
    onPoison: (delivery, reason) => logger.warn({ id: delivery.id, reason }, 'poison message skipped'),
  });
  await subscriber.start(handler);
  const metrics = await startMetricsServer(metricsPort);
  logger.info({ pipeline, metricsPort }, 'consuming');
  onShutdown(logger, async () => {
    await subscriber.close();
    await store.close();
    metrics.close();
  });
}
