/**
 * The bench's second reference: RabbitMQ's own confirmed-publish rate to a quorum queue — what the broker takes
 * on this machine when nothing of tandem stands in front of it. amqplib on one confirm channel, persistent
 * messages of a tandem envelope's size, published in windows of `window` messages each awaited with
 * waitForConfirms (as the ingest publishes a batch and waits for its confirms). The queue is the run's own
 * (durable, quorum, `tandem-bench-ref-<8 hex>`) and is deleted afterwards, whatever happened.
 */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@tandem/brokers';
import { encodeMessage } from '@tandem/message';
import amqp from 'amqplib';

export interface RabbitPublishOptions {
  url: string;
  seconds: number;
  /** Messages published before waiting for their confirms. */
  window: number;
}

export interface RabbitPublishResult {
  messages: number;
  seconds: number;
  rate: number;
  window: number;
  queue: string;
}

/**
 * The references' message number `index`, as the ingest publishes one: the JSON envelope of a message with its id
 * and acceptedAt (the ingest's own encoding), keyed by that id.
 */
export function referenceEnvelope(index: number): Envelope {
  const id = `ref-${index.toString(36).padStart(10, '0')}`;
  const payload = encodeMessage({
    id,
    description: 'Está lloviendo en Cobán, 19°C',
    country: 'GT',
    weather: 'rainy',
    acceptedAt: Date.now(),
  });
  return { id, payload };
}

export async function rabbitPublishRate(options: RabbitPublishOptions): Promise<RabbitPublishResult> {
  const connection = await amqp.connect(options.url);
  const queue = `tandem-bench-ref-${randomUUID().slice(0, 8)}`;
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    let messages = 0;
    const started = performance.now();
    const until = started + options.seconds * 1000;
    while (performance.now() < until) {
      for (let i = 0; i < options.window; i++) {
        // The default exchange routes by queue name; persistent, as tandem's messages are.
        channel.sendToQueue(queue, referenceEnvelope(messages + i).payload, {
          persistent: true,
          contentType: 'application/json',
        });
      }
      await channel.waitForConfirms();
      messages += options.window;
    }
    const seconds = (performance.now() - started) / 1000;
    await channel.deleteQueue(queue);
    await channel.close();
    return { messages, seconds, rate: messages / seconds, window: options.window, queue };
  } catch (error) {
    // Whatever failed, the run's queue does not outlive it.
    await connection
      .createChannel()
      .then((channel) => channel.deleteQueue(queue))
      .catch(() => undefined);
    throw error;
  } finally {
    await connection.close().catch(() => undefined);
  }
}
