/** Redis and Valkey: two RESP servers run the same way, each probed with its own client library. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';
import { type StackLocation, serverDir } from '../paths.ts';
import { startDetached } from '../processes.ts';
import type { Secrets } from '../secrets.ts';
import type { LocalServer } from './types.ts';

interface RespFlavour {
  name: 'redis' | 'valkey';
  binary: string;
  /** The default port, before the stack's offset. */
  port: number;
  /** The connection variable it writes to the stack's env file. */
  variable: 'REDIS_URL' | 'VALKEY_URL';
  password: (secrets: Secrets) => string;
  /** Opens a client of the project's own library for this server. */
  client: (port: number, password: string) => Redis | Valkey;
}

function respServer(flavour: RespFlavour, location: StackLocation): LocalServer {
  const dirs = serverDir(location, flavour.name);
  const port = flavour.port + location.portOffset;
  return {
    name: flavour.name,
    ports: [port],
    startTimeoutMs: 20_000,
    async start(secrets) {
      mkdirSync(dirs.data, { recursive: true });
      const config = join(dirs.root, `${flavour.name}.conf`);
      // AOF with an fsync a second: a restart (SHUTDOWN) loses nothing; a kill -9 at most the last second.
      writeFileSync(
        config,
        [
          'bind 127.0.0.1',
          `port ${port}`,
          'protected-mode yes',
          `requirepass ${flavour.password(secrets)}`,
          `dir ${dirs.data}`,
          'appendonly yes',
          'appendfsync everysec',
          // The idempotency records are the only keys with a TTL: an eviction policy would drop them first.
          'maxmemory-policy noeviction',
          'daemonize no',
          'logfile ""',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      return startDetached(flavour.binary, [config], { pidFile: dirs.pid, logFile: dirs.log });
    },
    async probe(secrets) {
      const client = flavour.client(port, flavour.password(secrets));
      // A refused connection rejects the command below; the client's own error event would only repeat it.
      client.on('error', () => {});
      try {
        const info = await client.info('server');
        const field = (key: string) => new RegExp(`^${key}:(\\S+)`, 'm').exec(info)?.[1];
        // Valkey also reports a redis_version (the Redis release it is compatible with); its own comes first.
        const product = field('server_name') ?? 'redis';
        const version = field(`${product}_version`) ?? field('redis_version') ?? '?';
        return `${product === 'valkey' ? 'Valkey' : 'Redis'} ${version}`;
      } finally {
        client.disconnect();
      }
    },
    // The `default` user named: `redis-cli -u` (7.0) sends `AUTH "" <password>` for the empty-user form and is
    // refused; every RESP client library takes this one.
    connection: (secrets) => ({
      [flavour.variable]: `redis://default:${encodeURIComponent(flavour.password(secrets))}@127.0.0.1:${port}`,
    }),
  };
}

const clientOptions = {
  host: '127.0.0.1',
  lazyConnect: false,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
};

export const redis = (location: StackLocation) =>
  respServer(
    {
      name: 'redis',
      binary: 'redis-server',
      port: 6379,
      variable: 'REDIS_URL',
      password: (s) => s.redisPassword,
      client: (port, password) => new Redis({ ...clientOptions, port, password }),
    },
    location,
  );

export const valkey = (location: StackLocation) =>
  respServer(
    {
      name: 'valkey',
      binary: 'valkey-server',
      port: 6380,
      variable: 'VALKEY_URL',
      password: (s) => s.valkeyPassword,
      client: (port, password) => new Valkey({ ...clientOptions, port, password }),
    },
    location,
  );
