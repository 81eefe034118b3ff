/**
 * The bench's second reference: RabbitMQ's own confirmed-publish rate to a quorum queue — what the broker takes
 * on this machine when nothing of tandem stands in front of it. amqplib on one confirm channel, persistent
 * messages of a tandem envelope's size, published in windows of `window` messages each awaited with
 * waitForConfirms (as the ingest publishes a batch and waits for its confirms). The queue is the run's own
 * (durable, quorum, `tandem-bench-ref-<8 hex>`) and is deleted afterwards, whatever happened.
 */
import { randomUUID } from 'node:crypto';
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

/** A message like the ones the ingest publishes: a JSON envelope with an id, the message and acceptedAt. */
function body(index: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: `ref-${index.toString(36).padStart(10, '0')}`,
      description: 'Está lloviendo en Cobán, 19°C',
      country: 'GT',
      weather: 'rainy',
      acceptedAt: Date.now(),
    }),
  );
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
        channel.sendToQueue(queue, body(messages + i), { persistent: true, contentType: 'application/json' });
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
