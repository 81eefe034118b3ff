/**
 * What the bench and the soak both do around their measuring: bring the local stack up, start a system of their
 * own through the launcher (its own ports, names and database, services logging at warn into files), open its two
 * stores for reading, and stop it all in the end — on Ctrl-C or SIGTERM too.
 */
import type { LocalStack } from '@tandem/stack';
import { type LaunchOptions, launchSystem, type System } from '@tandem/system';
import { openStores, type Stores } from './stores.ts';

export interface MeasuredSystem {
  system: System;
  stores: Stores;
}

export async function withMeasuredSystem<T>(
  stack: LocalStack,
  options: Omit<LaunchOptions, 'stack'> & { say: (message: string) => void },
  work: (measured: MeasuredSystem) => Promise<T>,
): Promise<T> {
  const { say, ...launch } = options;
  const system = await launchSystem({
    keepLines: 100,
    ...launch,
    stack: stack.env(),
    env: { LOG_LEVEL: 'warn', ...launch.env },
  });
  const stopping = async (signal: string) => {
    say(`${signal}: stopping the system`);
    await system.stopAll();
    process.exit(130);
  };
  process.once('SIGINT', () => void stopping('SIGINT'));
  process.once('SIGTERM', () => void stopping('SIGTERM'));
  const stores = await openStores({
    REDIS_URL: system.env.REDIS_URL as string,
    VALKEY_URL: system.env.VALKEY_URL as string,
  });
  try {
    await system.startAll();
    return await work({ system, stores });
  } finally {
    await system.stopAll();
    await stores.close();
  }
}
