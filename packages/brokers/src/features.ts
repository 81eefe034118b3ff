import type { BrokerFeatures } from './contract.ts';

export const kafkaFeatures: BrokerFeatures = {
  name: 'kafka',
  ordering: 'per-partition',
  redelivery: 'from-committed-offset',
};

export const rabbitFeatures: BrokerFeatures = {
  name: 'rabbitmq',
  ordering: 'per-queue',
  redelivery: 'requeue-unacked',
};

/** The memory adapter behaves as a queue, like RabbitMQ. */
export const memoryFeatures: BrokerFeatures = {
  name: 'memory',
  ordering: 'per-queue',
  redelivery: 'requeue-unacked',
};
