import { env } from '@tandem/config';
import { z } from 'zod';

/**
 * Where both pipelines end: the brokers (for how far each consumer is behind) and the stores. The same variables
 * as the services; read by `npm run compare` and by the load-test tools.
 */
export const pipelinesSchema = z.object({
  KAFKA_BROKERS: env.hostPorts(),
  KAFKA_TOPIC: env.string('message'),
  KAFKA_GROUP: env.string('kafka-consumer'),
  RABBITMQ_URL: env.url(['amqp:', 'amqps:']),
  RABBITMQ_QUEUE: env.string('message'),
  REDIS_URL: env.url(['redis:', 'rediss:']),
  VALKEY_URL: env.url(['redis:', 'rediss:']),
});

export type PipelinesConfig = z.output<typeof pipelinesSchema>;
