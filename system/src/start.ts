/**
 * `npm start [-- --port-base N] [--db N]`: the local stack (installed and started if needed), then the four services through the launcher,
 * supervised as a cluster would: prefixed logs, a service that dies is restarted with backoff.
 *
 * Ctrl-C or SIGTERM stops them in order (the edge first, then the rest, each draining); a second Ctrl-C kills them
 * at once. The services run in process groups of their own, so the terminal's SIGINT reaches only this process.
 * The local stack keeps running (`npm run stack:down` stops it).
 *
 * `--port-base` moves every port to a block of its own and `--db` picks the Redis / Valkey database, so that a second
 * system (a test's) runs beside the first; KAFKA_TOPIC, KAFKA_GROUP and RABBITMQ_QUEUE in the environment pass on to
 * the services as any other variable does.
 *
 * Beside the services: the live comparison page (http://127.0.0.1:8090, or base + 8), and with `--observe` Debian's
 * Prometheus scraping the four services as the Kubernetes component does (http://127.0.0.1:9090, or base + 9).
 */
import { parseArgs } from 'node:util';
import { localStack, type StackEnv } from '@tandem/stack';
import { ensureDebianPackages, toolPackages } from '@tandem/stack/install';
import { launchSystem } from './launcher.ts';
import { livePagePort, startLivePageFor } from './live.ts';
import { type LocalPrometheus, prometheusPort, startPrometheus } from './prometheus.ts';
import { readable } from './readable.ts';
import type { ServiceSpec } from './services.ts';

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (message: string) => console.log(`${paint(36, 'tandem'.padEnd(15))} │ ${message}`);
// In a terminal the services' JSON lines are shown for people; piped (CI, a file), as they are, for machines.
const forPeople = process.stdout.isTTY;
const show = (instance: string, line: string, service: ServiceSpec) =>
  console.log(`${paint(service.colour, instance.padEnd(15))} │ ${forPeople ? readable(line, colour) : line}`);

const { values: flags } = parseArgs({
  options: {
    'port-base': { type: 'string' },
    db: { type: 'string' },
    observe: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log('usage: npm start [-- --port-base N] [--db N] [--observe]');
  process.exit(0);
}
const whole = (name: string, value: string | undefined, max: number) => {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > max) {
    console.error(`npm start: --${name} must be a whole number from 0 to ${max} (got ${value})`);
    process.exit(2);
  }
  return number;
};
const portBase = whole('port-base', flags['port-base'], 65_000);
const db = whole('db', flags.db, 15);

const stack = localStack({ progress: (message) => console.log(`${paint(36, 'stack')} ${message}`) });
await stack.up();
const fromStack = stack.env();
// A variable set in the environment wins over the stack's env file, as it does for each service.
const connection = Object.fromEntries(
  Object.entries(fromStack).map(([name, value]) => [name, process.env[name] ?? value]),
) as unknown as StackEnv;
const edgePort = Number(process.env.PORT ?? 8080);
// PORT names the edge's port here; every service gets its own ports from the launcher.
delete process.env.PORT;

const system = await launchSystem({
  stack: connection,
  edgePort,
  ...(portBase === undefined ? {} : { portBase }),
  // The user's counts are kept: npm start never empties a database.
  ...(db === undefined ? {} : { db, flush: false }),
  supervise: true,
  onLine: show,
  keepLines: 200,
});

// The live page reads only what the services and the stack expose, so it starts now and shows each one as it comes.
const page = await startLivePageFor(system, { port: livePagePort(portBase), env: process.env }).catch(
  (error: Error) => {
    say(`the live page did not start: ${error.message}`);
    return undefined;
  },
);
let prometheus: LocalPrometheus | undefined;
if (flags.observe) {
  try {
    await ensureDebianPackages((message) => say(message), [toolPackages.prometheus]);
    prometheus = await startPrometheus({ instances: system.instances, port: prometheusPort(portBase) });
  } catch (error) {
    say(`--observe: Prometheus did not start: ${(error as Error).message}`);
  }
}

let stopping = false;
let stoppingSince = 0;
/**
 * One Ctrl-C can arrive twice: the terminal sends SIGINT to the whole foreground group, npm among it, and npm passes
 * the signal on to the script it runs. A signal within a second of the first is that same Ctrl-C; a later one is a
 * second Ctrl-C, which kills at once.
 */
const sameSignalMs = 1_000;
async function stopAll(reason: string): Promise<void> {
  if (stopping) {
    if (Date.now() - stoppingSince < sameSignalMs) return;
    say(`${reason} again: killing every service now`);
    system.killAll();
    process.exit(130);
  }
  stopping = true;
  stoppingSince = Date.now();
  say(`${reason}: stopping (the edge first, then the rest drain; Ctrl-C again to kill at once)`);
  await system.stopAll();
  await Promise.all([page?.close(), prometheus?.stop()]);
  say('all services stopped (the local stack keeps running: `npm run stack:down` stops it)');
  process.exit(0);
}
process.on('SIGINT', () => void stopAll('Ctrl-C'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));
// When `npm start` goes away without a signal reaching us (npm killed), so do we.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent && !stopping) void stopAll('npm exited');
}, 500).unref();

for (const instance of system.instances) {
  try {
    if (!stopping) await system.start(instance.name);
  } catch {
    if (!stopping) say(`${instance.name} is not ready after 60 s; going on (it is restarted if it dies)`);
  }
}
const ready = await system.waitHealthy('edge-api').then(
  () => true,
  () => false,
);
if (!stopping && !ready) say(`the edge is not ready (${system.edgeUrl}/ready); see the lines above`);
if (!stopping && ready) {
  say('ready');
  for (const instance of system.instances) {
    say(`${instance.name.padEnd(16)} ${instance.adminUrl}  ${instance.service.job}`);
  }
  if (page) say(`${'live page'.padEnd(16)} ${page.url}  Redis and Valkey side by side, live`);
  if (prometheus)
    say(
      `${'prometheus'.padEnd(16)} ${prometheus.url}  scraping the four services every ${prometheus.scrapeIntervalSeconds} s`,
    );
  say(
    `try  curl -s -X POST ${system.edgeUrl}/input -H 'content-type: application/json' -d '{"description": "Está lloviendo", "country": "GT", "weather": "Lluvioso"}'`,
  );
  say('then npm run compare');
}
