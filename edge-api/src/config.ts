/**
 * The edge's configuration, from the environment (docs/architecture.md, "Configuration and names"); a bad value
 * names the variable.
 */
import { env } from '@tandem/config';
import { z } from 'zod';
import { ingestGatewayDefaults } from './ingest-gateway/contract.ts';

export const configSchema = z.object({
  PORT: env.port(8080),
  /**
   * The ingest: `host:port` over gRPC (in Kubernetes a headless Service name, resolved with round_robin), or
   * `http://host:port` over HTTP/JSON (the bench's comparison of the transports).
   */
  INGEST_ADDR: env
    .string('127.0.0.1:50051')
    .refine(
      (value) => /^(?:http:\/\/)?[^\s/]+:\d{1,5}$/.test(value),
      'must be host:port (gRPC) or http://host:port (HTTP/JSON)',
    ),
  LOG_LEVEL: env.logLevel(),
  /** Deadline of every call to the ingest. This and MAX_IN_FLIGHT default to the gateways' own defaults. */
  INGEST_DEADLINE_MS: env.positiveInt(ingestGatewayDefaults.deadlineMs),
  /** Submits awaiting the ingest at once before requests are answered 429. */
  MAX_IN_FLIGHT: env.positiveInt(ingestGatewayDefaults.maxInFlight),
});
