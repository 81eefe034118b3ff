/**
 * The fault suite's private local stack: the same servers as `npm run stack:up`, in a folder of their own with every
 * port shifted, so that restarting a broker never disturbs the main stack other tests use. It is driven through the
 * stack's own CLI (`STACK_DIR=… STACK_PORT_OFFSET=… node stack/src/cli.ts up|down <server>`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv, promisify } from 'node:util';
import { projectRoot } from '@tandem/config';

const run = promisify(execFile);

export type ServerName = 'kafka' | 'rabbitmq' | 'redis' | 'valkey';
export const serverNames: readonly ServerName[] = ['kafka', 'rabbitmq', 'redis', 'valkey'];

export interface PrivateStack {
  dir: string;
  portOffset: number;
  /** The stack's `env` file (connection settings), written by `up`. */
  envFile: string;
  /** The connection settings in `envFile`. */
  settings(): Record<string, string>;
  /** `up` (all servers, or the ones named): idempotent, waits until each answers. */
  up(...servers: ServerName[]): Promise<void>;
  /** A clean stop: SIGTERM, SIGKILL after 30 s. */
  down(...servers: ServerName[]): Promise<void>;
  /** The servers whose recorded pid is alive. */
  running(): ServerName[];
}

export function privateStack(
  dir = process.env.FAULTS_STACK_DIR ?? join(projectRoot, '.stack-faults'),
  portOffset = Number(process.env.FAULTS_STACK_PORT_OFFSET ?? 1000),
): PrivateStack {
  const envFile = join(dir, 'env');
  const cli = async (command: string, servers: readonly string[]) => {
    try {
      await run(process.execPath, [join(projectRoot, 'stack/src/cli.ts'), command, ...servers], {
        env: { ...process.env, STACK_DIR: dir, STACK_PORT_OFFSET: String(portOffset) },
        maxBuffer: 16 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`stack ${command} ${servers.join(' ')} failed:\n${stdout}${stderr}`);
    }
  };
  return {
    dir,
    portOffset,
    envFile,
    settings() {
      const values = parseEnv(readFileSync(envFile, 'utf8'));
      return Object.fromEntries(
        Object.entries(values).filter((e): e is [string, string] => e[1] !== undefined),
      );
    },
    up: (...servers) => cli('up', servers),
    down: (...servers) => cli('down', servers),
    running() {
      return serverNames.filter((name) => {
        const file = join(dir, name, 'pid');
        if (!existsSync(file)) return false;
        const pid = Number(readFileSync(file, 'utf8').trim());
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
    },
  };
}
