/**
 * `npm start`: the local stack (installed and started if needed), then the four services through the launcher,
 * supervised as a cluster would: prefixed logs, a service that dies is restarted with backoff.
 *
 * Ctrl-C or SIGTERM stops them in order (the edge first, then the rest, each draining); a second Ctrl-C kills them
 * at once. The services run in process groups of their own, so the terminal's SIGINT reaches only this process.
 * The local stack keeps running (`npm run stack:down` stops it).
 */
import { localStack } from '@tandem/stack';
import { launchSystem } from './launcher.ts';
import type { ServiceSpec } from './services.ts';

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
const say = (message: string) => console.log(`${paint(36, 'tandem'.padEnd(15))} │ ${message}`);
const show = (instance: string, line: string, service: ServiceSpec) =>
  console.log(`${paint(service.colour, instance.padEnd(15))} │ ${line}`);

const stack = localStack({ progress: (message) => console.log(`${paint(36, 'stack')} ${message}`) });
await stack.up();
const fromStack = stack.env();
// A variable set in the environment wins over the stack's env file, as it does for each service.
const connection = {
  KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? fromStack.KAFKA_BROKERS,
  RABBITMQ_URL: process.env.RABBITMQ_URL ?? fromStack.RABBITMQ_URL,
  REDIS_URL: process.env.REDIS_URL ?? fromStack.REDIS_URL,
  VALKEY_URL: process.env.VALKEY_URL ?? fromStack.VALKEY_URL,
};
const edgePort = Number(process.env.PORT ?? 8080);
// PORT names the edge's port here; every service gets its own ports from the launcher.
delete process.env.PORT;

const system = await launchSystem({
  stack: connection,
  edgePort,
  supervise: true,
  onLine: show,
  keepLines: 200,
});

let stopping = false;
async function stopAll(reason: string): Promise<void> {
  if (stopping) {
    say(`${reason} again: killing every service now`);
    system.killAll();
    process.exit(130);
  }
  stopping = true;
  say(`${reason}: stopping (the edge first, then the rest drain; Ctrl-C again to kill at once)`);
  await system.stopAll();
  say('all services stopped (the local stack keeps running: `npm run stack:down` stops it)');
  process.exit(0);
}
process.on('SIGINT', () => void stopAll('Ctrl-C'));
process.on('SIGTERM', () => void stopAll('SIGTERM'));
// npm does not pass on a SIGTERM it receives to the script it runs: when `npm start` goes away, so do we.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stopAll('npm exited');
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
  say(
    `try  curl -s -X POST ${system.edgeUrl}/input -H 'content-type: application/json' -d '{"description": "Está lloviendo", "country": "GT", "weather": "Lluvioso"}'`,
  );
  say('then npm run compare');
}
