/**
 * `npm run stack:up | stack:down | stack:status | stack:reset` — the local stack, as local processes.
 * `up` and `down` take server names to act on some only (`node stack/src/cli.ts down rabbitmq`).
 *
 * up:     installs what is missing, starts each server that is not running, waits until each answers its own
 *         client, writes `.stack/env`. Idempotent.
 * down:   stops every server (SIGTERM, then SIGKILL after a grace period).
 * status: each server with its pid, ports and the version it reports; exits 1 unless all answer.
 * reset:  stops everything and wipes the servers' data (passwords and installed jars are kept).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '@tandem/config';
import { writeStackEnv } from './env.ts';
import { ensureDebianPackages, ensureKafkaJars } from './install.ts';
import { serverDir, stackDir, stackEnvFile } from './paths.ts';
import { portOpen, portOwner, runningPid, StackError, stopPid, waitFor } from './processes.ts';
import { loadOrCreateSecrets, type Secrets } from './secrets.ts';
import { kafka, useKafkaJars } from './servers/kafka.ts';
import { rabbitmq } from './servers/rabbitmq.ts';
import { redis, valkey } from './servers/resp.ts';
import type { LocalServer } from './servers/types.ts';

export const servers: readonly LocalServer[] = [kafka, rabbitmq, redis, valkey];

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (message: string) => console.log(`${paint(36, 'stack')} ${message}`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

/** The servers named on the command line, or all of them. */
function selected(names: readonly string[]): readonly LocalServer[] {
  const unknown = names.filter((name) => !servers.some((server) => server.name === name));
  if (unknown.length > 0) {
    throw new StackError(
      `unknown server ${unknown.join(', ')}; the servers are ${servers.map((s) => s.name).join(', ')}`,
    );
  }
  return names.length === 0 ? servers : servers.filter((server) => names.includes(server.name));
}

async function up(names: readonly string[]): Promise<void> {
  const chosen = selected(names);
  mkdirSync(stackDir, { recursive: true });
  await ensureDebianPackages(say);
  useKafkaJars(await ensureKafkaJars(say));
  const secrets = loadOrCreateSecrets();
  const results = await Promise.allSettled(chosen.map((server) => bringUp(server, secrets)));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (failures.length > 0) throw new StackError(failures.map((e) => e.message).join('\n'));
  writeStackEnv(secrets);
  say(
    `ready; connection settings in ${stackEnvFile.startsWith(projectRoot) ? relative(projectRoot, stackEnvFile) : stackEnvFile}`,
  );
}

async function bringUp(server: LocalServer, secrets: Secrets): Promise<void> {
  const started = Date.now();
  const { pid: pidFile, log } = serverDir(server.name);
  let pid = runningPid(pidFile);
  if (pid === undefined) {
    for (const port of server.ports) {
      if (await portOpen(port)) {
        throw new StackError(
          `${server.name}: port ${port} is taken by ${await portOwner(port)}; stop it and run up again`,
        );
      }
    }
    mkdirSync(serverDir(server.name).root, { recursive: true });
    say(`${server.name}: starting`);
    pid = await server.start(secrets);
  }
  const runningAs = pid;
  const version = await waitFor(server.name, () => server.probe(secrets), {
    timeoutMs: server.startTimeoutMs,
    isAlive: () => runningPid(pidFile) === runningAs,
    logFile: log,
  });
  say(
    `${paint(32, '✓')} ${server.name.padEnd(8)} ${version} on :${server.ports[0]} (pid ${pid}, ${seconds(started)})`,
  );
}

async function down(names: readonly string[]): Promise<void> {
  await Promise.all(
    selected(names).map(async (server) => {
      const started = Date.now();
      if (await stopPid(serverDir(server.name).pid)) say(`${server.name}: stopped (${seconds(started)})`);
      else say(`${server.name}: not running`);
    }),
  );
}

async function status(): Promise<boolean> {
  const secrets = loadOrCreateSecrets();
  useKafkaJars(await ensureKafkaJars(say));
  const rows = await Promise.all(
    servers.map(async (server) => {
      const pid = runningPid(serverDir(server.name).pid);
      if (pid === undefined) return { server, ok: false, text: paint(31, 'stopped') };
      try {
        return {
          server,
          ok: true,
          text: `${paint(32, 'running')}  pid ${pid}  ${await server.probe(secrets)}`,
        };
      } catch (error) {
        return {
          server,
          ok: false,
          text: `${paint(33, 'not answering')}  pid ${pid}: ${(error as Error).message}`,
        };
      }
    }),
  );
  for (const { server, text } of rows) {
    console.log(
      `${server.name.padEnd(9)} ${server.ports
        .map((p) => `:${p}`)
        .join(',')
        .padEnd(12)} ${text}`,
    );
  }
  return rows.every((row) => row.ok);
}

async function reset(): Promise<void> {
  await down([]);
  for (const server of servers) rmSync(serverDir(server.name).root, { recursive: true, force: true });
  rmSync(stackEnvFile, { force: true });
  say('data wiped; `npm run stack:up` starts afresh');
}

const commands: Record<string, (names: readonly string[]) => Promise<unknown>> = {
  up,
  down,
  reset,
  status: async () => {
    if (!(await status())) process.exitCode = 1;
  },
};

const name = process.argv[2] ?? '';
const command = commands[name];
if (!command) {
  console.error(`usage: node stack/src/cli.ts ${Object.keys(commands).join('|')} [server…]`);
  process.exit(2);
}
try {
  await command(process.argv.slice(3));
} catch (error) {
  console.error(
    `${paint(31, 'stack: error:')} ${error instanceof StackError ? error.message : (error as Error).stack}`,
  );
  process.exitCode = 1;
}
// Client libraries may leave sockets closing; the command is done.
await sleep(0);
process.exit();
