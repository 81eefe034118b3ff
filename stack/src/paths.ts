import { join, resolve } from 'node:path';
import { projectRoot } from '@tandem/config';

/**
 * Everything the local stack writes lives under its folder (data, logs, secrets, `env`) or `.tools/` (jars).
 * The main stack is `.stack/` on the default ports. A second, private stack — for the fault suite, which restarts
 * brokers and must not disturb anything else — gets its own folder (STACK_DIR) and shifts every port by
 * STACK_PORT_OFFSET.
 */
export const stackDir = process.env.STACK_DIR ? resolve(process.env.STACK_DIR) : join(projectRoot, '.stack');
export const toolsDir = join(projectRoot, '.tools');
export const secretsPath = join(stackDir, 'secrets.json');
export const stackEnvFile = join(stackDir, 'env');

export const portOffset = Number(process.env.STACK_PORT_OFFSET ?? 0);
if (!Number.isInteger(portOffset) || portOffset < 0 || portOffset > 30_000) {
  throw new Error(
    `STACK_PORT_OFFSET must be a whole number from 0 to 30000 (got ${process.env.STACK_PORT_OFFSET})`,
  );
}

/** A server's own folder: `data/` (wiped by reset), `server.log`, `pid`, and its generated config. */
export function serverDir(name: string): { root: string; data: string; log: string; pid: string } {
  const root = join(stackDir, name);
  return { root, data: join(root, 'data'), log: join(root, 'server.log'), pid: join(root, 'pid') };
}
