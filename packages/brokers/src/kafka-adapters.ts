/**
 * The two Kafka adapters behind one contract: kafkajs (src/kafka) and @platformatic/kafka (src/platformatic). They
 * take the same options and keep the same guarantees; KAFKA_CLIENT (`@tandem/config`) picks one in a service's
 * index.ts.
 */
import type { KafkaClientName } from '@tandem/config';
import type { Subscriber } from './contract.ts';
import { type KafkaGroupBacklogOptions, kafkaGroupBacklog } from './kafka/backlog.ts';
import { createKafkaPublisher, type KafkaPublisher, type KafkaPublisherOptions } from './kafka/publisher.ts';
import { type RemoveKafkaResourcesOptions, removeKafkaResources } from './kafka/remove.ts';
import { createKafkaSubscriber, type KafkaSubscriberOptions } from './kafka/subscriber.ts';
import { type EnsureKafkaTopicOptions, ensureKafkaTopic } from './kafka/topic.ts';

export interface KafkaAdapter {
  client: KafkaClientName;
  createPublisher(options: KafkaPublisherOptions): Promise<KafkaPublisher>;
  createSubscriber(options: KafkaSubscriberOptions): Promise<Subscriber>;
  ensureTopic(options: EnsureKafkaTopicOptions): Promise<boolean>;
  groupBacklog(options: KafkaGroupBacklogOptions): Promise<number>;
  removeResources(options: RemoveKafkaResourcesOptions): Promise<{ removed: string[]; left: string[] }>;
}

export const kafkaAdapters: Readonly<Record<KafkaClientName, KafkaAdapter>> = {
  kafkajs: {
    client: 'kafkajs',
    createPublisher: createKafkaPublisher,
    createSubscriber: createKafkaSubscriber,
    ensureTopic: ensureKafkaTopic,
    groupBacklog: kafkaGroupBacklog,
    removeResources: removeKafkaResources,
  },
  // Loaded on first use: a service on kafkajs (or on RabbitMQ) does not pay for loading the second client (its
  // schemas are compiled at import).
  platformatic: {
    client: 'platformatic',
    createPublisher: async (options) =>
      (await import('./platformatic/publisher.ts')).createPlatformaticKafkaPublisher(options),
    createSubscriber: async (options) =>
      (await import('./platformatic/subscriber.ts')).createPlatformaticKafkaSubscriber(options),
    ensureTopic: async (options) =>
      (await import('./platformatic/topic.ts')).ensurePlatformaticKafkaTopic(options),
    groupBacklog: async (options) =>
      (await import('./platformatic/backlog.ts')).platformaticKafkaGroupBacklog(options),
    removeResources: async (options) =>
      (await import('./platformatic/remove.ts')).removePlatformaticKafkaResources(options),
  },
};
