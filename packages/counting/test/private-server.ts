/**
 * A Redis or Valkey server of this test's own, on a free port, with no persistence: for what cannot be done to a
 * server of the shared stack without disturbing everyone — making it refuse writes (maxmemory, REPLICAOF), or
 * reading server-wide statistics (INFO commandstats) that no other client moves meanwhile. The binaries are the
 * ones the local stack runs (`npm run stack:up` installs them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface PrivateServer {
  url: string;
  /** The port of a closed socket: a primary that never answers, for REPLICAOF. */
  closedPort: number;
  /** An admin connection (ioredis: it only speaks plain RESP). */
  admin: Redis;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export async function startPrivateServer(binary: 'redis-server' | 'valkey-server'): Promise<PrivateServer> {
  const port = await freePort();
  const closedPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tandem-counting-'));
  let output = '';
  const child: ChildProcess = spawn(
    binary,
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
      // As the stack's servers: an eviction policy would drop the idempotency records.
      ...['--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', ''],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `redis://127.0.0.1:${port}`;
  // Generous: the machine may be busy, and a server starts in milliseconds when it is not.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const admin = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    admin.on('error', () => {});
    try {
      await admin.connect();
      await admin.ping();
      const stopAll = async () => {
        admin.disconnect();
        await stop();
      };
      return { url, closedPort, admin, stop: stopAll };
    } catch (error) {
      admin.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`${binary} did not start on port ${port}: ${output}`, { cause: error });
      }
      await sleep(50);
    }
  }
}

/** `calls` of each command in INFO commandstats (`cmdstat_<name>:calls=N,…`). */
export async function commandCalls(admin: Redis): Promise<Record<string, number>> {
  const info = await admin.info('commandstats');
  return Object.fromEntries(
    [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map(([, name, calls]) => [name, Number(calls)]),
  );
}
