/**
 * The local stack as an API: Kafka (KRaft), RabbitMQ, Redis and Valkey as local processes, no Docker. `npm run
 * stack:*` is a thin command line over it; the launcher, the fault suite and the bench import it.
 *
 * up:     installs what is missing, starts each server that is not running, waits until each answers its own
 *         client, writes the env file. Idempotent.
 * down:   stops servers (SIGTERM, then SIGKILL after a grace period).
 * status: each server with its pid, ports and the version it reports.
 * reset:  stops everything and wipes the servers' data (passwords and installed jars are kept).
 * env:    the connection settings from the env file `up` wrote.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { readEnvFile } from '@tandem/config';
import { connectionSettings, writeStackEnv } from './env.ts';
import { ensureDebianPackages, ensureKafkaJars, type Progress } from './install.ts';
import { envFile, mainStackDir, type StackLocation, secretsFile, serverDir, stackLocation } from './paths.ts';
import { portOpen, portOwner, runningPid, StackError, stopPid, waitFor } from './processes.ts';
import { loadOrCreateSecrets } from './secrets.ts';
import { kafka } from './servers/kafka.ts';
import { rabbitmq } from './servers/rabbitmq.ts';
import { redis, valkey } from './servers/resp.ts';
import type { LocalServer, ServerName } from './servers/types.ts';

export { type StackLocation, stackLocationFromEnv } from './paths.ts';
export { StackError } from './processes.ts';
export type { ServerName } from './servers/types.ts';

export const serverNames: readonly ServerName[] = ['kafka', 'rabbitmq', 'redis', 'valkey'];

/** What a stack's env file holds and every service, test and tool connects with. */
export interface StackEnv {
  KAFKA_BROKERS: string;
  /** Kafka's listener requires SASL/SCRAM: the mechanism (`scram-sha-512`), user and password to log in with. */
  KAFKA_SASL_MECHANISM: string;
  KAFKA_SASL_USERNAME: string;
  KAFKA_SASL_PASSWORD: string;
  RABBITMQ_URL: string;
  REDIS_URL: string;
  VALKEY_URL: string;
}
export const stackVariables = [
  'KAFKA_BROKERS',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'RABBITMQ_URL',
  'REDIS_URL',
  'VALKEY_URL',
] as const satisfies readonly (keyof StackEnv)[];

export interface ServerStatus {
  name: ServerName;
  ports: readonly number[];
  state: 'running' | 'stopped' | 'not answering';
  pid?: number;
  /** What the server reports of itself when running, or why it does not answer. */
  detail?: string;
}

export interface StackOptions {
  /** Default `.stack/` in the repository. */
  dir?: string;
  /** Every port shifted by this much (a private stack beside the main one). Default 0. */
  portOffset?: number;
  /** Progress lines (installs, starts); default none. */
  progress?: Progress;
}

export interface LocalStack {
  readonly location: StackLocation;
  /** The env file `up` writes. */
  readonly envFile: string;
  up(names?: readonly ServerName[]): Promise<void>;
  down(names?: readonly ServerName[]): Promise<void>;
  reset(): Promise<void>;
  status(): Promise<ServerStatus[]>;
  /** The connection settings `up` wrote; throws, naming the command to run, when there are none yet. */
  env(): StackEnv;
  /** The pid of each server that runs, by name. */
  pids(): Partial<Record<ServerName, number>>;
}

export function localStack(options: StackOptions = {}): LocalStack {
  const location = stackLocation(options.dir ?? mainStackDir, options.portOffset ?? 0);
  const progress = options.progress ?? (() => {});
  const servers: readonly LocalServer[] = [
    kafka(location),
    rabbitmq(location),
    redis(location),
    valkey(location),
  ];
  const file = envFile(location);
  const pidOf = (server: LocalServer) => runningPid(serverDir(location, server.name).pid);

  function selected(names: readonly ServerName[] | undefined): readonly LocalServer[] {
    const unknown = (names ?? []).filter((name) => !serverNames.includes(name));
    if (unknown.length > 0) {
      throw new StackError(`unknown server ${unknown.join(', ')}; the servers are ${serverNames.join(', ')}`);
    }
    return names === undefined || names.length === 0
      ? servers
      : servers.filter((server) => names.includes(server.name));
  }

  async function bringUp(
    server: LocalServer,
    secrets: ReturnType<typeof loadOrCreateSecrets>,
  ): Promise<void> {
    const started = Date.now();
    const dirs = serverDir(location, server.name);
    let pid = runningPid(dirs.pid);
    const outdated = pid === undefined ? undefined : server.outdated?.();
    if (outdated) throw new StackError(`${server.name}: ${outdated}`);
    if (pid === undefined) {
      for (const port of server.ports) {
        if (await portOpen(port)) {
          throw new StackError(
            `${server.name}: port ${port} is taken by ${await portOwner(port)}; stop it and run up again`,
          );
        }
      }
      mkdirSync(dirs.root, { recursive: true });
      progress(`${server.name}: starting`);
      pid = await server.start(secrets);
    }
    const runningAs = pid;
    const version = await waitFor(server.name, () => server.probe(secrets), {
      timeoutMs: server.startTimeoutMs,
      isAlive: () => runningPid(dirs.pid) === runningAs,
      logFile: dirs.log,
    });
    progress(
      `✓ ${server.name.padEnd(8)} ${version} on :${server.ports[0]} (pid ${pid}, ${((Date.now() - started) / 1000).toFixed(1)}s)`,
    );
  }

  return {
    location,
    envFile: file,
    async up(names) {
      const chosen = selected(names);
      mkdirSync(location.dir, { recursive: true });
      await ensureDebianPackages(progress);
      await ensureKafkaJars(progress);
      const secrets = loadOrCreateSecrets(secretsFile(location));
      const results = await Promise.allSettled(chosen.map((server) => bringUp(server, secrets)));
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
      if (failures.length > 0) throw new StackError(failures.map((e) => e.message).join('\n'));
      writeStackEnv(connectionSettings(secrets, servers), file);
    },
    async down(names) {
      await Promise.all(
        selected(names).map(async (server) => {
          const started = Date.now();
          if (await stopPid(serverDir(location, server.name).pid)) {
            progress(`${server.name}: stopped (${((Date.now() - started) / 1000).toFixed(1)}s)`);
          } else progress(`${server.name}: not running`);
        }),
      );
    },
    async reset() {
      await this.down();
      for (const server of servers)
        rmSync(serverDir(location, server.name).root, { recursive: true, force: true });
      rmSync(file, { force: true });
    },
    async status() {
      const secrets = loadOrCreateSecrets(secretsFile(location));
      return Promise.all(
        servers.map(async (server): Promise<ServerStatus> => {
          const pid = pidOf(server);
          const row = { name: server.name, ports: server.ports, pid };
          if (pid === undefined) return { ...row, state: 'stopped' };
          const outdated = server.outdated?.();
          if (outdated) return { ...row, state: 'not answering', detail: outdated };
          try {
            return { ...row, state: 'running', detail: await server.probe(secrets) };
          } catch (error) {
            return { ...row, state: 'not answering', detail: (error as Error).message };
          }
        }),
      );
    },
    env() {
      const values = readEnvFile(file);
      const fix =
        location.dir === mainStackDir ? 'run `npm run stack:up`' : `bring the stack in ${location.dir} up`;
      if (values === undefined) throw new StackError(`no ${file}: ${fix} first`);
      const missing = stackVariables.filter((name) => !values[name]);
      if (missing.length > 0) throw new StackError(`${file} has no ${missing.join(', ')}: ${fix} again`);
      return Object.fromEntries(stackVariables.map((name) => [name, values[name]])) as unknown as StackEnv;
    },
    pids() {
      return Object.fromEntries(
        servers.flatMap((server) => {
          const pid = pidOf(server);
          return pid === undefined ? [] : [[server.name, pid]];
        }),
      );
    },
  };
}
