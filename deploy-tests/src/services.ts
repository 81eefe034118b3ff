/**
 * The four services as the manifests must run them: the list and their named ports come from the one description
 * in @tandem/system; each service's configuration schema is imported from its source, so that the manifests are
 * checked against the variables the code really reads (each service exports its schema as `./config`).
 */
import { configSchema as edgeApi } from '@tandem/edge-api/config';
import { configSchema as grpcIngest } from '@tandem/grpc-ingest/config';
import { configSchema as kafkaConsumer } from '@tandem/kafka-consumer/config';
import { configSchema as rabbitConsumer } from '@tandem/rabbit-consumer/config';
import { type PortVariable, type ServiceName, serviceNames, services } from '@tandem/system';
import type { z } from 'zod';

export { serviceNames };

export const configSchemas: Partial<Record<string, z.ZodObject>> & Record<ServiceName, z.ZodObject> = {
  'edge-api': edgeApi,
  'grpc-ingest': grpcIngest,
  'kafka-consumer': kafkaConsumer,
  'rabbit-consumer': rabbitConsumer,
};

/** The variable each container port (by name) is opened from, per service. */
export const portNames: Record<string, Record<string, PortVariable>> = Object.fromEntries(
  services.map((service) => [
    service.name,
    Object.fromEntries(service.ports.map((port) => [port.name, port.variable])),
  ]),
);
