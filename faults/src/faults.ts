/**
 * The faults, one at a time: each injects its fault and resolves once the fault is over — the killed service was
 * restarted by the supervisor and answers its health check, or the stopped server is back up. Whether the system
 * then recovers by itself is for the caller to see.
 */
import { setTimeout as sleep } from 'node:timers/promises';
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
];
