/**
 * The faults, one at a time: each injects its fault and resolves once the fault is over — the killed service was
 * restarted by the supervisor and answers its health check, or the stopped server is back up. Whether the system
 * then recovers by itself is for the caller to see.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openRedisStore, openValkeyStore } from '@tandem/counting';
import type { LocalStack, ServerName } from '@tandem/stack';
import type { ServiceName, System } from '@tandem/system';

export interface FaultContext {
  system: System;
  stack: LocalStack;
}

export interface Fault {
  name: string;
  /** What the fault does, for the README and the log. */
  description: string;
  /** The service the fault kills on purpose: its restart is not counted as a service exiting by itself. */
  killed?: ServiceName;
  inject(context: FaultContext): Promise<void>;
}

function killService(name: ServiceName): Fault {
  return {
    name: `kill -9 ${name}`,
    description: `SIGKILL of the ${name} process; the supervisor restarts it (backoff from 500 ms)`,
    killed: name,
    async inject({ system }) {
      await system.kill(name);
      await system.waitHealthy(name, 90_000);
    },
  };
}

function restartServer(name: ServerName): Fault {
  return {
    name: `restart ${name}`,
    description: `a clean stop of ${name} (SIGTERM, as \`stack down ${name}\`), then \`stack up ${name}\``,
    async inject({ stack }) {
      await stack.down([name]);
      await stack.up([name]);
    },
  };
}

function serverDown(name: ServerName, seconds: number): Fault {
  return {
    name: `${name} down ${seconds} s`,
    description: `${name} stopped cleanly, kept down ${seconds} s, then started again`,
    async inject({ stack }) {
      await stack.down([name]);
      await sleep(seconds * 1000);
      await stack.up([name]);
    },
  };
}

/** Each store, the consumer that writes to it and that consumer's pipeline label. */
const stores = {
  redis: { variable: 'REDIS_URL', open: openRedisStore, consumer: 'kafka-consumer', pipeline: 'kafka-redis' },
  valkey: {
    variable: 'VALKEY_URL',
    open: openValkeyStore,
    consumer: 'rabbit-consumer',
    pipeline: 'rabbitmq-valkey',
  },
} as const;

/** Polls `url` until it answers `status`; false if it did not within `timeoutMs`. */
async function answers(url: string, status: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  do {
    const got = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.status,
      () => undefined,
    );
    if (got === status) return true;
    await sleep(100);
  } while (Date.now() < deadline);
  return false;
}

/** `store_write_refused_total{pipeline, reason="oom"}` of a consumer, from its /metrics. */
async function oomRefusals(metricsUrl: string, pipeline: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('store_write_refused_total{') &&
        l.includes(`pipeline="${pipeline}"`) &&
        l.includes('reason="oom"'),
    );
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * The store at `maxmemory` under `noeviction`: every write is answered OOM for `seconds`, reads go on. The consumer
 * must hold its batches unacknowledged and retry with back-off, report it (/ready 503, the refusal metric), and
 * count each message once afterwards. `maxmemory 1` is below what any server uses; the stack's servers run with
 * `noeviction`, checked first: under an eviction policy it would empty the store instead.
 */
function storeRefusesWrites(name: keyof typeof stores, seconds: number): Fault {
  const { variable, open, consumer, pipeline } = stores[name];
  return {
    name: `${name} OOM ${seconds} s`,
    description:
      `${name} at maxmemory (\`CONFIG SET maxmemory 1\`, \`noeviction\`): every write answered OOM for ${seconds} s, ` +
      `then its old limit again (none: 0). ${consumer} holds its batches unacknowledged, its /ready answers 503`,
    async inject({ stack, system }) {
      const admin = await open(stack.env()[variable], { connectionName: 'faults-admin' });
      admin.client.on('error', () => {});
      const metricsUrl = system.metricsUrl(consumer);
      let refusedBefore: number;
      let noticed: boolean;
      try {
        const [, policy] = (await admin.client.config('GET', 'maxmemory-policy')) as string[];
        if (policy !== 'noeviction') {
          throw new Error(`${name} runs with maxmemory-policy ${policy}: maxmemory 1 would evict its data`);
        }
        const [, before = '0'] = (await admin.client.config('GET', 'maxmemory')) as string[];
        refusedBefore = await oomRefusals(metricsUrl, pipeline);
        const refusing = Date.now();
        await admin.client.config('SET', 'maxmemory', '1');
        try {
          noticed = await answers(`${metricsUrl}/ready`, 503, seconds * 1000);
          await sleep(Math.max(0, refusing + seconds * 1000 - Date.now()));
        } finally {
          await admin.client.config('SET', 'maxmemory', before);
        }
      } finally {
        await admin.close();
      }
      if (!noticed) throw new Error(`${consumer}'s /ready never answered 503 while ${name} refused writes`);
      if (!(await answers(`${metricsUrl}/ready`, 200, 30_000))) {
        throw new Error(`${consumer}'s /ready did not answer 200 within 30 s of ${name} taking writes again`);
      }
      const refused = (await oomRefusals(metricsUrl, pipeline)) - refusedBefore;
      if (!(refused > 0)) throw new Error(`${consumer} counted no store_write_refused_total{reason="oom"}`);
    },
  };
}

export const allFaults: readonly Fault[] = [
  killService('edge-api'),
  killService('grpc-ingest'),
  killService('kafka-consumer'),
  killService('rabbit-consumer'),
  restartServer('rabbitmq'),
  restartServer('kafka'),
  restartServer('redis'),
  restartServer('valkey'),
  serverDown('kafka', 10),
  serverDown('rabbitmq', 10),
  serverDown('redis', 10),
  serverDown('valkey', 10),
  storeRefusesWrites('redis', 10),
  storeRefusesWrites('valkey', 10),
];
