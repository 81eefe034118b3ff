import type { Secrets } from '../secrets.ts';

export type ServerName = 'kafka' | 'rabbitmq' | 'redis' | 'valkey';

/** One server of the local stack. The stack drives every server through this. */
export interface LocalServer {
  /** Short name: the folder under the stack's folder and the label in status output. */
  readonly name: ServerName;
  /** Every TCP port it listens on; `up` refuses to start when one is taken by another process. */
  readonly ports: readonly number[];
  /** How long it may take from spawn until `probe` answers. */
  readonly startTimeoutMs: number;
  /** Writes its config and data folders (idempotent), then starts it detached. Returns the pid. */
  start(secrets: Secrets): Promise<number>;
  /** Talks to the running server with the project's client and returns its product and version. */
  probe(secrets: Secrets): Promise<string>;
  /**
   * The variables and values it adds to the stack's env file (e.g. `REDIS_URL`: `redis://default:…@…`; Kafka's
   * address and its SASL credentials).
   */
  connection(secrets: Secrets): Readonly<Record<string, string>>;
  /**
   * Why the server that is running must be restarted before it matches this stack (it was started with an older
   * configuration), or undefined. `up` stops there with that reason rather than wait for a probe that cannot pass.
   */
  outdated?(): string | undefined;
}
