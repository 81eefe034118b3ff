import { join } from 'node:path';
import { projectRoot } from '@tandem/config';

/** Everything the local stack writes lives under `.stack/` (data, logs, secrets) or `.tools/` (installed jars). */
export const stackDir = join(projectRoot, '.stack');
export const toolsDir = join(projectRoot, '.tools');
export const secretsPath = join(stackDir, 'secrets.json');

/** A server's own folder: `data/` (wiped by reset), `server.log`, `pid`, and its generated config. */
export function serverDir(name: string): { root: string; data: string; log: string; pid: string } {
  const root = join(stackDir, name);
  return { root, data: join(root, 'data'), log: join(root, 'server.log'), pid: join(root, 'pid') };
}
