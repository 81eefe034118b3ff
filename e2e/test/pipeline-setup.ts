// What every end-to-end file starts from: a system of its own on the main local stack (its own ports, topic, group,
// queue and Redis / Valkey database), with all four services up, and the two stores it counts into, opened for
// reading.
import { type CountingStore, openRedisStore, openValkeyStore } from '@tandem/counting';
import { localStack } from '@tandem/stack';
import { type LaunchOptions, launchSystem, type System } from '@tandem/system';

export interface RunningPipeline {
  system: System;
  redis: CountingStore;
  valkey: CountingStore;
  /** Stops the services (the edge first) and closes the stores. */
  stop(): Promise<void>;
}

export async function startPipeline(
  portBase: number,
  options: Partial<LaunchOptions> = {},
): Promise<RunningPipeline> {
  const system = await launchSystem({
    stack: localStack().env(),
    portBase,
    run: 'e2e',
    // Databases 1..15, chosen by port base so that concurrent files do not share one. Launching flushes the
    // database, so a file that names its own must keep clear of the others': dashboards 9, coalescing 10, live page
    // 11, the system package's terminal test 12 (turbo runs it beside these files), and 13 and 14, the soak's and the
    // bench's defaults, which a developer may have running while the tests run.
    db: 1 + (portBase % 15),
    ...options,
  });
  let redis: CountingStore | undefined;
  let valkey: CountingStore | undefined;
  try {
    await system.startAll();
    redis = await openRedisStore(system.env.REDIS_URL as string, { dedupTtlSeconds: 3600 });
    valkey = await openValkeyStore(system.env.VALKEY_URL as string, { dedupTtlSeconds: 3600 });
  } catch (error) {
    await system.stopAll();
    await redis?.close();
    throw error;
  }
  return {
    system,
    redis,
    valkey,
    async stop() {
      await system.stopAll();
      await redis?.close();
      await valkey?.close();
    },
  };
}
