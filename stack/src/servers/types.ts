import type { Secrets } from '../secrets.ts';

/** One server of the local stack. The CLI drives every server through this, in order. */
export interface LocalServer {
  /** Short name: the folder under `.stack/` and the label in status output. */
  readonly name: string;
  /** Every TCP port it listens on; `up` refuses to start when one is taken by another process. */
  readonly ports: readonly number[];
  /** How long it may take from spawn until `probe` answers. */
  readonly startTimeoutMs: number;
  /** Writes its config and data folders (idempotent), then starts it detached. Returns the pid. */
  start(secrets: Secrets): Promise<number>;
  /** Talks to the running server with the project's client and returns its product and version. */
  probe(secrets: Secrets): Promise<string>;
}
