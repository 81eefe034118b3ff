// What every end-to-end file starts from: a system of its own with all four services up, and the two stores it
// counts into, opened for reading.
import { type CountingStore, openRedisStore, openValkeyStore } from '@tandem/counting';
import { type SystemOptions, type SystemUnderTest, startSystem } from '../src/system.ts';

export interface RunningPipeline {
  system: SystemUnderTest;
  redis: CountingStore;
  valkey: CountingStore;
  /** Stops the services (the edge first) and closes the stores. */
  stop(): Promise<void>;
}

export async function startPipeline(portBase: number, options: SystemOptions = {}): Promise<RunningPipeline> {
  const system = await startSystem(portBase, options);
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
