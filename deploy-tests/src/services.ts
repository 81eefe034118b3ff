/**
 * The four services' configuration schemas, imported from their sources, so that the manifests are checked against
 * the variables the code really reads (DESIGN.md "Names"); each service exports its schema as `./config`.
 */

import { configSchema as edgeApi } from '@tandem/edge-api/config';
import { configSchema as grpcIngest } from '@tandem/grpc-ingest/config';
import { configSchema as kafkaConsumer } from '@tandem/kafka-consumer/config';
import { configSchema as rabbitConsumer } from '@tandem/rabbit-consumer/config';
import type { z } from 'zod';

export const configSchemas: Record<string, z.ZodObject> = {
  'edge-api': edgeApi,
  'grpc-ingest': grpcIngest,
  'kafka-consumer': kafkaConsumer,
  'rabbit-consumer': rabbitConsumer,
};

export const serviceNames = Object.keys(configSchemas);

/** The port each service listens on for traffic (`PORT`) and for metrics (`METRICS_PORT`), by container port name. */
export const portNames: Record<string, Record<string, 'PORT' | 'METRICS_PORT'>> = {
  'edge-api': { http: 'PORT' },
  'grpc-ingest': { grpc: 'PORT', metrics: 'METRICS_PORT' },
  'kafka-consumer': { metrics: 'METRICS_PORT' },
  'rabbit-consumer': { metrics: 'METRICS_PORT' },
};
