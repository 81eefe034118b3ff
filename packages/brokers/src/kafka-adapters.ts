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
import { platformaticKafkaGroupBacklog } from './platformatic/backlog.ts';
import { createPlatformaticKafkaPublisher } from './platformatic/publisher.ts';
import { removePlatformaticKafkaResources } from './platformatic/remove.ts';
import { createPlatformaticKafkaSubscriber } from './platformatic/subscriber.ts';
import { ensurePlatformaticKafkaTopic } from './platformatic/topic.ts';

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
  platformatic: {
    client: 'platformatic',
    createPublisher: createPlatformaticKafkaPublisher,
    createSubscriber: createPlatformaticKafkaSubscriber,
    ensureTopic: ensurePlatformaticKafkaTopic,
    groupBacklog: platformaticKafkaGroupBacklog,
    removeResources: removePlatformaticKafkaResources,
  },
};
