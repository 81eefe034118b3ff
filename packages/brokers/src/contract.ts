/**
 * One publish/consume contract, two adapters (Kafka, RabbitMQ). Handlers and services depend on these
 * interfaces only; a service's index.ts is the one place that picks an adapter.
 */

/** What a publisher sends: an id (Kafka record key, AMQP message-id) and opaque bytes. */
export interface Envelope {
  id: string;
  payload: Buffer;
}

export interface Publisher {
  /**
   * Resolves once the broker has durably confirmed every envelope (Kafka: acks=all from the idempotent
   * producer; RabbitMQ: a publisher confirm for a persistent message on a durable queue). Rejects if any was not
   * confirmed: then some may still have been stored, and the caller retries with the same ids (counting is
   * idempotent). Concurrent calls may be coalesced into one broker request (see PublisherOptions).
   */
  publish(envelopes: readonly Envelope[]): Promise<void>;
  /** True while connected and able to publish (used by readiness checks). */
  isReady(): boolean;
  /** Stops accepting, waits for every publish in flight to be confirmed or fail, then disconnects. */
  close(): Promise<void>;
}

export interface PublisherOptions {
  /**
   * How long the first queued envelope waits for more before a request goes out (ms). 0 = on the next turn of
   * the event loop, so calls made in the same turn still share a request. Kafka only: RabbitMQ pipelines every
   * message on one channel and has no request to fill.
   */
  lingerMs?: number;
  /** Most envelopes in one broker request (Kafka only, as lingerMs). */
  maxBatch?: number;
}

/** One consumed message. */
export interface Delivery {
  /** The id it was published with (Kafka key / AMQP message-id), if any. */
  id: string | undefined;
  payload: Buffer;
  /**
   * The unit within which the broker keeps publish order (see BrokerFeatures.ordering): `topic/partition` for
   * Kafka, the queue name for RabbitMQ. Deliveries of one stream arrive in the order they were published,
   * unless a rejected batch is being delivered again.
   */
  stream?: string;
}

/**
 * A handler gets a batch and resolves when every delivery in it is durably processed: only then are they
 * committed (Kafka) / acknowledged (RabbitMQ). A rejection means "not processed": the batch is delivered again.
 */
export type BatchHandler = (batch: readonly Delivery[]) => Promise<void>;

export interface Subscriber {
  /** Starts consuming; resolves once the subscription is active. */
  start(handler: BatchHandler): Promise<void>;
  /** Messages published but not yet acknowledged by this consumer: Kafka lag summed over partitions / queue depth. */
  backlog(): Promise<number>;
  /** True while connected and consuming. */
  isReady(): boolean;
  /** Stops taking new deliveries, lets the batch in flight finish and commit/ack, then disconnects. */
  close(): Promise<void>;
}

export interface SubscriberOptions {
  /** Most deliveries in one batch handed to the handler. */
  maxBatch?: number;
  /**
   * How long to wait to fill a batch (ms) before handing over what there is (RabbitMQ; Kafka batches per fetch and
   * partition, several partitions at once; the memory adapter hands over what is there on the next turn of the
   * event loop).
   */
  lingerMs?: number;
}

/** Where the two brokers truly differ; the conformance suite reads these instead of pretending they are alike. */
export interface BrokerFeatures {
  /** 'memory' is the in-process adapter for unit tests; it behaves as a queue. */
  name: 'kafka' | 'rabbitmq' | 'memory';
  /**
   * Order is kept per Kafka partition (records with the same key land in the same partition, and the key is the
   * envelope id, so a topic with several partitions delivers envelopes in several independent streams); a
   * RabbitMQ queue is one stream for a single consumer.
   */
  ordering: 'per-partition' | 'per-queue';
  /**
   * How unacknowledged messages come back (after a handler rejection or a consumer restart). Kafka re-reads the
   * partition from the committed offset, so the rejected batch and everything after it in that partition come
   * again in order; RabbitMQ requeues the unacked deliveries, and other messages may be handled before they
   * return. Both: at-least-once.
   */
  redelivery: 'from-committed-offset' | 'requeue-unacked';
}
