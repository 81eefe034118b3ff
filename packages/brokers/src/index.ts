export type { KafkaClientName, KafkaConnection, KafkaSasl } from '@tandem/config';
export type {
  BatchHandler,
  BrokerFeatures,
  Delivery,
  Envelope,
  Publisher,
  PublisherOptions,
  Subscriber,
  SubscriberOptions,
} from './contract.ts';
export { BrokerUnavailableError } from './errors.ts';
export { kafkaFeatures, memoryFeatures, rabbitFeatures } from './features.ts';
export {
  type KafkaBacklogReader,
  type KafkaGroupBacklogOptions,
  kafkaGroupBacklog,
  openKafkaBacklogReader,
} from './kafka/backlog.ts';
export type { KafkaAdminOptions, KafkaClientOptions } from './kafka/client.ts';
export {
  createKafkaPublisher,
  type KafkaPublisher,
  type KafkaPublisherOptions,
  type KafkaPublisherStats,
  kafkaPublisherDefaults,
} from './kafka/publisher.ts';
export { type RemoveKafkaResourcesOptions, removeKafkaResources } from './kafka/remove.ts';
export {
  createKafkaSubscriber,
  HandlerRejectedError,
  type KafkaSubscriberOptions,
  kafkaSubscriberDefaults,
} from './kafka/subscriber.ts';
export { type EnsureKafkaTopicOptions, ensureKafkaTopic } from './kafka/topic.ts';
export { type KafkaAdapter, kafkaAdapters } from './kafka-adapters.ts';
export { type BrokerLogger, silentLogger } from './logger.ts';
export { createMemoryBroker, type MemoryBroker, type MemorySubscriberOptions } from './memory/broker.ts';
export {
  openRabbitBacklogReader,
  type RabbitBacklogReader,
  type RabbitQueueBacklogOptions,
  rabbitQueueBacklog,
} from './rabbitmq/backlog.ts';
export type {
  RabbitConnectionOptions,
  RabbitQueueOptions,
  RabbitToolOptions,
} from './rabbitmq/connection.ts';
export {
  createRabbitPublisher,
  type RabbitPublisherOptions,
  rabbitPublisherDefaults,
} from './rabbitmq/publisher.ts';
export { type RemoveRabbitQueuesOptions, removeRabbitQueues } from './rabbitmq/remove.ts';
export {
  createRabbitSubscriber,
  type RabbitSubscriberOptions,
  rabbitSubscriberDefaults,
} from './rabbitmq/subscriber.ts';
export { RetriesExhaustedError, type RetryOptions } from './retry.ts';
