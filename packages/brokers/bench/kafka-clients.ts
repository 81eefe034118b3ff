/**
 * A micro-benchmark of the two Kafka adapters (kafkajs, @platformatic/kafka) against the local stack's broker: how
 * fast each publishes and consumes through the brokers contract, and what each costs in CPU per message. Not a test:
 * run it on a quiet machine, `npm run bench:clients -w @tandem/brokers [-- --messages 100000 --rounds 3]`.
 *
 * Each measurement runs in a child process of its own (this file with `--child`), so that one client's garbage,
 * JIT state and timers do not bill the other; the rounds alternate the clients' order. Per round and client: a
 * fresh topic (6 partitions, as the services'), a warm-up of 2,000 messages, then
 *   publish — `--in-flight` concurrent publish() calls of `--per-call` envelopes each, as the ingest makes them
 *            (its defaults: linger 0, batches of 500), until `--messages` are acknowledged (acks=all, idempotent);
 *   consume — a new consumer group reads them all back through a subscriber (batches of 500, a handler that
 *            does nothing), from the moment it has joined the group to its last delivery.
 * CPU is the child's own (process.cpuUsage(), user + system) over each phase, divided by the messages: the client
 * library's cost, not the broker's. The table gives each client's median over the rounds.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type KafkaClientName,
  kafkaClientNames,
  kafkaConnectionFromEnv,
  loadStackEnv,
  projectRoot,
} from '@tandem/config';
import { type Envelope, kafkaAdapters, silentLogger } from '../src/index.ts';

const { values: flags } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    client: { type: 'string' },
    clients: { type: 'string', default: kafkaClientNames.join(',') },
    messages: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    'in-flight': { type: 'string', default: '500' },
    'per-call': { type: 'string', default: '1' },
    size: { type: 'string', default: '160' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(
    'usage: npm run bench:clients -w @tandem/brokers [-- --messages N] [--rounds N] [--in-flight N] [--per-call N] [--size BYTES] [--clients kafkajs,platformatic]',
  );
  process.exit(0);
}
const whole = (name: string, value: string | undefined) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`--${name} must be a whole number ≥ 1, got ${value}`);
  return parsed;
};
const messages = whole('messages', flags.messages);
const rounds = whole('rounds', flags.rounds);
const inFlight = whole('in-flight', flags['in-flight']);
const perCall = whole('per-call', flags['per-call']);
const size = whole('size', flags.size);

interface Phase {
  messages: number;
  seconds: number;
  cpuMicros: number;
}
interface Result {
  client: KafkaClientName;
  publish: Phase;
  consume: Phase;
}

if (flags.child) {
  const client = flags.client as KafkaClientName;
  if (!kafkaClientNames.includes(client))
    throw new Error(`--client must be one of ${kafkaClientNames.join(', ')}`);
  console.log(JSON.stringify(await measure(client)));
  process.exit(0);
} else {
  await orchestrate();
}

/** One client, in this (child) process: publish then consume `messages`, after a warm-up. */
async function measure(client: KafkaClientName): Promise<Result> {
  loadStackEnv();
  const connection = kafkaConnectionFromEnv();
  const kafka = kafkaAdapters[client];
  const run = `bench-clients-${client}-${randomUUID().slice(0, 8)}`;
  const logger = silentLogger;
  await kafka.ensureTopic({ ...connection, topic: run, partitions: 6, logger });
  const groups = [`${run}-warm`, `${run}-measured`];
  try {
    const publisher = await kafka.createPublisher({ ...connection, topic: run, clientId: run, logger });
    const payload = Buffer.alloc(size, 'x');
    const envelopes = (label: string, count: number): Envelope[] =>
      Array.from({ length: count }, (_, i) => ({ id: `${label}-${i}`, payload }));

    const publishAll = async (all: Envelope[]): Promise<Phase> => {
      let next = 0;
      const worker = async () => {
        while (next < all.length) {
          const start = next;
          next += perCall;
          await publisher.publish(all.slice(start, start + perCall));
        }
      };
      const cpu = process.cpuUsage();
      const started = performance.now();
      await Promise.all(Array.from({ length: Math.min(inFlight, all.length) }, worker));
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      return { messages: all.length, seconds, cpuMicros: used.user + used.system };
    };
    const consumeAll = async (groupId: string, count: number): Promise<Phase> => {
      const subscriber = await kafka.createSubscriber({
        ...connection,
        topic: run,
        groupId,
        clientId: run,
        logger,
      });
      let seen = 0;
      let last = 0;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        done = resolve;
      });
      const cpu = process.cpuUsage();
      await subscriber.start(async (batch) => {
        seen += batch.length;
        if (seen >= count) {
          last = performance.now();
          done();
        }
      });
      // From a member of the group (start() resolves once joined) to the last record: the first fetch counts.
      const first = performance.now();
      await finished;
      const used = process.cpuUsage(cpu);
      await subscriber.close();
      return { messages: count, seconds: (last - first) / 1000, cpuMicros: used.user + used.system };
    };

    // Warm-up: connections, JIT, the idempotent session, a group join; not measured.
    const warm = envelopes('warm', 2000);
    await publishAll(warm);
    await consumeAll(groups[0] as string, warm.length);

    const publish = await publishAll(envelopes('measured', messages));
    await publisher.close();
    // The group reads from the beginning: the warm-up's records too.
    const consume = await consumeAll(groups[1] as string, warm.length + messages);
    return { client, publish, consume };
  } finally {
    await kafka.removeResources({ ...connection, topics: [run], groupIds: groups, logger });
  }
}

/** Rounds of one child per client, alternating their order; then the medians. */
async function orchestrate(): Promise<void> {
  const clients = (flags.clients ?? '').split(',').map((c) => c.trim()) as KafkaClientName[];
  for (const client of clients)
    if (!kafkaClientNames.includes(client)) throw new Error(`--clients: unknown client ${client}`);
  const versions = Object.fromEntries(
    ['kafkajs', '@platformatic/kafka'].map((name) => [name, installedVersion(name)]),
  );
  console.log(
    `Kafka clients micro-benchmark: ${messages.toLocaleString('en')} messages of ${size} B, ${inFlight} publish calls in flight × ${perCall} per call, ${rounds} round(s); kafkajs ${versions.kafkajs}, @platformatic/kafka ${versions['@platformatic/kafka']}, Node ${process.version}`,
  );
  const results: Result[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const client of order) {
      const result = await child(client);
      results.push(result);
      console.log(`round ${round + 1} ${row(result)}`);
    }
  }
  console.log();
  console.log(header());
  for (const client of clients) {
    const mine = results.filter((r) => r.client === client);
    console.log(
      row({
        client,
        publish: medianPhase(mine.map((r) => r.publish)),
        consume: medianPhase(mine.map((r) => r.consume)),
      }),
    );
  }
  console.log(
    '\nmedians over the rounds; CPU = the client process (user + system) per message, not the broker',
  );
}

function child(client: KafkaClientName): Promise<Result> {
  const args = [fileURLToPath(import.meta.url), '--child', '--client', client];
  for (const name of ['messages', 'in-flight', 'per-call', 'size'] as const)
    args.push(`--${name}`, String(flags[name]));
  return new Promise((resolve, reject) => {
    const process_ = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    process_.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    process_.on('error', reject);
    process_.on('exit', (code) => {
      const line = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`${client}: the measuring process exited with ${code}: ${output}`));
      else resolve(JSON.parse(line) as Result);
    });
  });
}

function installedVersion(name: string): string {
  const manifest = join(projectRoot, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

function medianPhase(phases: Phase[]): Phase {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1
      ? (sorted[middle] as number)
      : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  };
  // The median of each figure, over rounds that carried the same number of messages.
  const messagesEach = phases[0]?.messages ?? 0;
  const rate = median(phases.map((p) => p.messages / p.seconds));
  const cpu = median(phases.map((p) => p.cpuMicros / p.messages));
  return { messages: messagesEach, seconds: messagesEach / rate, cpuMicros: cpu * messagesEach };
}

function header(): string {
  return [
    '| client       | publish msg/s | publish CPU µs/msg | consume msg/s | consume CPU µs/msg |',
    '| ------------ | ------------: | -----------------: | ------------: | -----------------: |',
  ].join('\n');
}

function row({ client, publish, consume }: Result): string {
  const rate = (p: Phase) => Math.round(p.messages / p.seconds).toLocaleString('en');
  const cpu = (p: Phase) => (p.cpuMicros / p.messages).toFixed(1);
  return `| ${client.padEnd(12)} | ${rate(publish).padStart(13)} | ${cpu(publish).padStart(18)} | ${rate(consume).padStart(13)} | ${cpu(consume).padStart(18)} |`;
}
