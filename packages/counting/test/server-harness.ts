/**
 * Runs the conformance suite against a real server of the local stack. Each test gets its own key prefix
 * (`test:<uuid>:`) and deletes its keys afterwards, so tests and other users of the stack never see each other's
 * counters.
 *
 * The harness's own admin connection (TTL, SCRIPT FLUSH, MONITOR, clean-up) uses ioredis for both servers: it
 * only speaks plain RESP, while the store under test uses the client of its server.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadStackEnv } from '@tandem/config';
import { Redis } from 'ioredis';
import type { CountingStore, OpenStoreOptions } from '../src/index.ts';
import { keys } from '../src/index.ts';
import type { Harness, StoreUnderTest, Traffic } from './store.case.ts';

export type OpenStore = (url: string, options: OpenStoreOptions) => Promise<CountingStore>;

/** The URL of a server of the local stack; fails (not skips) when the stack's settings are missing. */
export function stackUrl(variable: 'REDIS_URL' | 'VALKEY_URL'): string {
  loadStackEnv();
  const url = process.env[variable];
  if (!url) throw new Error(`${variable} is not set and .stack/env has none: run \`npm run stack:up\``);
  return url;
}

export const testPrefix = () => `test:${randomUUID()}:`;

/** Deletes every key under `prefix`. */
export async function deleteKeys(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (found.length > 0) await admin.unlink(...found);
    cursor = next;
  } while (cursor !== '0');
}

/** The socket of the client behind a store opened by openRedisStore/openValkeyStore. */
function socketOf(store: CountingStore): Socket {
  const { client } = store as unknown as { client?: { stream?: Socket } };
  if (!client?.stream) throw new Error('the store has no client socket to observe');
  return client.stream;
}

export function serverUnderTest(name: string, url: string, open: OpenStore): StoreUnderTest {
  return {
    name,
    server: true,
    async setup(): Promise<Harness> {
      const prefix = testPrefix();
      const admin = new Redis(url);
      const stores: CountingStore[] = [];
      return {
        async open(options = {}) {
          const store = await open(url, {
            ...options,
            keyPrefix: prefix,
            connectionName: 'tandem-counting-test',
          });
          stores.push(store);
          return store;
        },
        async seenTtlMs(id) {
          const ttl = await admin.pttl(`${prefix}${keys.seen(id)}`);
          return ttl >= 0 ? ttl : undefined;
        },
        async elapse(ms) {
          await sleep(ms);
        },
        async dispose() {
          await Promise.all(stores.map((store) => store.close()));
          await deleteKeys(admin, prefix);
          await admin.quit();
        },
        server: {
          async flushScripts() {
            await admin.script('FLUSH');
          },
          async corrupt(key, field) {
            await admin.hset(`${prefix}${key}`, field, 'not a count');
          },
          async repair(key, field) {
            await admin.hdel(`${prefix}${key}`, field);
          },
          observe: (store, action) => observe(admin, store, action),
        },
      };
    },
  };
}

/**
 * Counts the socket writes of the store's client while `action` runs, and collects what the server received from
 * that connection with MONITOR. A marker sent afterwards on the admin connection shows when the monitor has seen
 * everything: the server executed the observed commands before it answered them, so before the marker.
 */
async function observe(admin: Redis, store: CountingStore, action: () => Promise<unknown>): Promise<Traffic> {
  const socket = socketOf(store);
  const source = `${socket.localAddress}:${socket.localPort}`;
  const marker = `observe-${randomUUID()}`;
  // Not `admin.monitor()`: other clients of the shared stack may be busy, and ioredis takes the monitor lines that
  // come with MONITOR's OK (before it sets the status 'monitoring') or after `disconnect()` as replies to no command
  // ("Command queue state error"), emitted as errors before `monitor()` resolves. They say nothing about the store;
  // the listener is there from the start so that none is left unhandled.
  const monitor = admin.duplicate({ monitor: true, lazyConnect: true });
  monitor.on('error', () => {});
  // Not `events.once`: it rejects on the first of those errors.
  const monitoring = new Promise((resolve) => monitor.once('monitoring', resolve));
  await monitor.connect();
  await monitoring;
  const commands: string[] = [];
  const seenMarker = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[], from: string) => {
      if (from === source) commands.push(String(args[0]).toLowerCase());
      else if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) resolve();
    });
  });
  const write = socket.write;
  let writes = 0;
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    writes += 1;
    return write.apply(this, args);
  } as Socket['write'];
  try {
    await action();
  } finally {
    socket.write = write;
  }
  await admin.echo(marker);
  await seenMarker;
  monitor.disconnect();
  return { writes, commands };
}
