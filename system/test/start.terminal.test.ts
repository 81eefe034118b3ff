/**
 * `npm start` in a real terminal (a pseudo-terminal from util-linux's `script`), Ctrl-C under load: the terminal
 * sends SIGINT to the whole foreground group (npm, the shell, the launcher), and npm passes it on once more. The
 * services must not see it: the launcher stops the edge first, the rest drain, each logs a clean stop, and every
 * message answered 202 is then counted, once, in both stores.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeKafkaResources, removeRabbitQueues, silentLogger } from '@tandem/brokers';
import { kafkaConnectionFromEnv, projectRoot } from '@tandem/config';
import { localStack } from '@tandem/stack';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchSystem, withDatabase } from '../src/launcher.ts';
import { serviceNames } from '../src/services.ts';

const portBase = 18_700;
const db = 12;
const country = 'CTRLC';
const name = `ctrlc-${randomUUID().slice(0, 8)}`;
const names = { KAFKA_TOPIC: name, KAFKA_GROUP: name, RABBITMQ_QUEUE: name };
const stack = localStack().env();
const stores = [
  new Redis(withDatabase(stack.REDIS_URL, db)),
  new Valkey(withDatabase(stack.VALKEY_URL, db)),
] as const;

beforeAll(async () => {
  await Promise.all(stores.map((store) => store.flushdb()));
});

afterAll(async () => {
  await Promise.allSettled([
    removeKafkaResources({
      ...kafkaConnectionFromEnv({ ...stack }),
      topics: [name, `${name}.dlq`],
      groupIds: [name],
      logger: silentLogger,
    }),
    removeRabbitQueues({ url: stack.RABBITMQ_URL, queues: [name, `${name}.dlq`] }),
  ]);
  for (const store of stores) store.disconnect();
});

/** Runs `npm start` in a pseudo-terminal; `output()` is everything it printed so far. */
function inTerminal(command: string): {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
} {
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: projectRoot,
    env: { ...process.env, ...names, LOG_LEVEL: 'info', NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text.replace(/\r/g, ''), exited };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs / 1000}s`);
    await sleep(100);
  }
}

describe('npm start in a terminal', () => {
  it('drains every service on Ctrl-C under load, the edge first, and every 202 is counted once', async () => {
    const terminal = inTerminal(`npm start -- --port-base ${portBase} --db ${db}`);
    await until('ready', () => terminal.output().includes('│ ready\n'), 180_000).catch((error) => {
      terminal.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}:\n${terminal.output().slice(-3000)}`);
    });

    const accepted = new Set<string>();
    let sent = 0;
    let interrupted = false;
    const client = async (k: number) => {
      for (let i = 0; ; i += 1) {
        const id = `${name}-${k}-${i}`;
        try {
          const response = await fetch(`http://127.0.0.1:${portBase}/input`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id, description: 'Ctrl-C', country, weather: 'Sunny' }),
          });
          sent += 1;
          if (response.status === 202) accepted.add(id);
          else if (!interrupted)
            throw new Error(`${response.status} before Ctrl-C: ${await response.text()}`);
        } catch (error) {
          // Once the edge has closed its port, the load is over.
          if (interrupted) return;
          throw error;
        }
      }
    };
    const load = Promise.all(Array.from({ length: 6 }, (_, k) => client(k)));
    await until('under load', () => accepted.size >= 300, 60_000);
    interrupted = true;
    terminal.child.stdin?.write('\x03');
    const code = await Promise.race([terminal.exited, sleep(90_000).then(() => 'timeout' as const)]);
    await load;
    const output = terminal.output();
    // npm, stopped by the same SIGINT, exits with 130 (128 + SIGINT) once its script has: that is Ctrl-C's code.
    expect([0, 130], output.slice(-3000)).toContain(code);

    const lines = output.split('\n');
    const index = (service: string, text: string) =>
      lines.findIndex((line) => line.startsWith(service) && line.includes(text));
    expect(output).toContain('Ctrl-C: stopping');
    expect(output).not.toContain('again: killing');
    expect(output).not.toContain('second signal');
    // In a terminal the services' lines are for people: `edge-api        │ 21:05:07.042 INFO  stopped cleanly`.
    for (const service of serviceNames) {
      expect(index(service, 'INFO  stopped cleanly'), `${service} did not log a clean stop`).toBeGreaterThan(
        -1,
      );
    }
    expect(lines[index('edge-api', 'stopped cleanly')]).toMatch(
      /^edge-api +│ \d\d:\d\d:\d\d\.\d{3} INFO {2}stopped cleanly$/,
    );
    expect(index('edge-api', 'stopped cleanly')).toBeLessThan(index('grpc-ingest', 'stopping: draining'));
    expect(output).toContain('all services stopped');
    expect(accepted.size).toBeGreaterThan(300);
    console.log(`Ctrl-C after ${sent} requests: ${accepted.size} accepted`);

    // What the consumers had not fetched yet is in the brokers: consumers of the same topic, group and queue count it.
    const consumers = await launchSystem({ stack, portBase: portBase + 20, db, flush: false, env: names });
    try {
      await consumers.start('kafka-consumer');
      await consumers.start('rabbit-consumer');
      const counted = () =>
        Promise.all(stores.map(async (store) => Number(await store.hget('country:counts', country))));
      await until('counted', async () => (await counted()).every((n) => n >= accepted.size), 60_000).catch(
        () => {},
      );
      await sleep(500); // anything counted twice shows up now
      expect(await counted()).toEqual([accepted.size, accepted.size]);
    } finally {
      await consumers.stopAll();
    }
  }, 360_000);
});
