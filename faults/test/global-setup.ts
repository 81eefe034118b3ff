/**
 * Takes the private stack for this run (one run at a time: run-lock.ts), brings it up once for every file of the
 * suite, and stops at the end the servers this run started (a stack that was running before is left running).
 */
import type { ServerName } from '@tandem/stack';
import { lockRun } from '../src/run-lock.ts';
import { faultsStack } from '../src/stack.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const stack = faultsStack();
  const release = lockRun(stack.location.dir);
  try {
    const before = new Set(Object.keys(stack.pids()));
    const started = Date.now();
    await stack.up();
    console.log(
      `private stack up in ${stack.location.dir} (+${stack.location.portOffset}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return async () => {
      try {
        const ours = (Object.keys(stack.pids()) as ServerName[]).filter((name) => !before.has(name));
        if (ours.length > 0 && process.env.FAULTS_KEEP_STACK !== '1') await stack.down(ours);
      } finally {
        release();
      }
    };
  } catch (error) {
    release();
    throw error;
  }
}
