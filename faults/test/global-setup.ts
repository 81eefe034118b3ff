/**
 * Brings the private stack up once for every file of the suite, and stops at the end the servers this run started
 * (a stack that was running before is left running).
 */
import { privateStack, type ServerName } from '../src/stack.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const stack = privateStack();
  const before = new Set(stack.running());
  const started = Date.now();
  await stack.up();
  console.log(
    `private stack up in ${stack.dir} (+${stack.portOffset}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return async () => {
    const ours = stack.running().filter((name: ServerName) => !before.has(name));
    if (ours.length > 0 && process.env.FAULTS_KEEP_STACK !== '1') await stack.down(...ours);
  };
}
