/**
 * RabbitMQ from Debian, run as a local node (`tandem@localhost`) with its database, logs and Erlang cookie under
 * `.stack/rabbitmq/`. The dedicated user is the node's default user, created on first boot from rabbitmq.conf;
 * the `guest` user is never created.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { type StackLocation, serverDir } from '../paths.ts';
import { startDetached } from '../processes.ts';
import type { Secrets } from '../secrets.ts';
import type { LocalServer } from './types.ts';

export function rabbitmq(location: StackLocation): LocalServer {
  const { portOffset } = location;
  const amqpPort = 5672 + portOffset;
  const distributionPort = 25672 + portOffset;
  // One Erlang node name per stack: nodes on one host share epmd and must not clash.
  const nodeName = portOffset === 0 ? 'tandem@localhost' : `tandem-${portOffset}@localhost`;
  const dirs = serverDir(location, 'rabbitmq');
  const url = (secrets: Secrets) =>
    `amqp://${secrets.rabbitmqUser}:${encodeURIComponent(secrets.rabbitmqPassword)}@127.0.0.1:${amqpPort}`;

  return {
    name: 'rabbitmq',
    ports: [amqpPort, distributionPort],
    startTimeoutMs: 60_000,
    async start(secrets) {
      mkdirSync(dirs.data, { recursive: true });
      const config = join(dirs.root, 'rabbitmq.conf');
      writeFileSync(
        config,
        [
          `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
          `default_user = ${secrets.rabbitmqUser}`,
          `default_pass = ${secrets.rabbitmqPassword}`,
          'default_vhost = /',
          'default_permissions.configure = .*',
          'default_permissions.read = .*',
          'default_permissions.write = .*',
          'log.console = true',
          'log.console.level = info',
          'log.file = false',
          // A laptop's disk may be nearly full; the default 50 MB alarm is kept, not raised.
          'disk_free_limit.absolute = 50MB',
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      const enabledPlugins = join(dirs.root, 'enabled_plugins');
      writeFileSync(enabledPlugins, '[].\n');
      return startDetached('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
        pidFile: dirs.pid,
        logFile: dirs.log,
        env: {
          PATH: process.env.PATH,
          // The Erlang cookie is read from $HOME: one per stack, not the user's.
          HOME: dirs.root,
          RABBITMQ_NODENAME: nodeName,
          RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
          RABBITMQ_NODE_PORT: String(amqpPort),
          RABBITMQ_DIST_PORT: String(distributionPort),
          RABBITMQ_CONFIG_FILE: config,
          RABBITMQ_ENABLED_PLUGINS_FILE: enabledPlugins,
          RABBITMQ_MNESIA_BASE: dirs.data,
          RABBITMQ_LOG_BASE: dirs.root,
          RABBITMQ_LOGS: '-',
          RABBITMQ_CONF_ENV_FILE: join(dirs.root, 'rabbitmq-env.conf'),
        },
      });
    },
    async probe(secrets) {
      const connection = await amqp.connect(url(secrets), { timeout: 2000 });
      try {
        const server = connection.connection.serverProperties;
        return `${server.product ?? 'RabbitMQ'} ${server.version ?? '?'}`;
      } finally {
        await connection.close();
      }
    },
    connection: (secrets) => ({ RABBITMQ_URL: url(secrets) }),
  };
}
