/**
 * The live comparison page (`@tandem/compare/live`) for a system the launcher started: the same stores (with the
 * system's database), topic, group and queue as its services, and its services' own ports. `npm start` runs it
 * beside the services; the browser test does the same for a system of its own.
 */
import { snapshotSchema } from '@tandem/compare/config';
import { type LivePage, startLivePage } from '@tandem/compare/live';
import { snapshotSources } from '@tandem/compare/snapshot';
import { parseConfig } from '@tandem/config';
import type { System } from './launcher.ts';

export type { LivePage } from '@tandem/compare/live';

/** The page's port: 8090, or base + 8 in a port block (see `plan`). */
export function livePagePort(portBase: number | undefined): number {
  return portBase === undefined ? 8090 : portBase + 8;
}

export function startLivePageFor(
  system: System,
  options: { port: number; host?: string; env?: NodeJS.ProcessEnv },
): Promise<LivePage> {
  const config = parseConfig(snapshotSchema, {
    // As the services get them: the environment, then what the launcher gave every service.
    ...(options.env ?? {}),
    ...system.env,
    EDGE_URL: system.edgeUrl,
    INGEST_METRICS_URL: system.metricsUrl('grpc-ingest'),
    KAFKA_CONSUMER_METRICS_URL: system.metricsUrl('kafka-consumer'),
    RABBIT_CONSUMER_METRICS_URL: system.metricsUrl('rabbit-consumer'),
  });
  return startLivePage({
    sources: snapshotSources(config),
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
  });
}
