import { join, resolve } from 'node:path';
import { projectRoot } from '@tandem/config';

/**
 * Where one local stack lives: its folder (data, logs, secrets, `env`) and how far every port is shifted from the
 * defaults. The main stack is `.stack/` on the default ports; a private one — the fault suite's, which restarts
 * brokers and must not disturb anything else — gets a folder of its own and an offset.
 */
export interface StackLocation {
  dir: string;
  portOffset: number;
}

export const toolsDir = join(projectRoot, '.tools');
export const mainStackDir = join(projectRoot, '.stack');

export function stackLocation(dir = mainStackDir, portOffset = 0): StackLocation {
  if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 30_000) {
    throw new Error(`a stack's port offset must be a whole number from 0 to 30000 (got ${portOffset})`);
  }
  return { dir: resolve(dir), portOffset };
}

/** The location the CLI acts on: STACK_DIR and STACK_PORT_OFFSET, else the main stack. */
export function stackLocationFromEnv(env: NodeJS.ProcessEnv = process.env): StackLocation {
  const offset = env.STACK_PORT_OFFSET ?? '0';
  if (!/^\d+$/.test(offset)) {
    throw new Error(`STACK_PORT_OFFSET must be a whole number from 0 to 30000 (got ${offset})`);
  }
  return stackLocation(env.STACK_DIR || mainStackDir, Number(offset));
}

export const secretsFile = (location: StackLocation) => join(location.dir, 'secrets.json');
export const envFile = (location: StackLocation) => join(location.dir, 'env');

/** A server's own folder: `data/` (wiped by reset), `server.log`, `pid`, and its generated config. */
export function serverDir(
  location: StackLocation,
  name: string,
): { root: string; data: string; log: string; pid: string } {
  const root = join(location.dir, name);
  return { root, data: join(root, 'data'), log: join(root, 'server.log'), pid: join(root, 'pid') };
}
