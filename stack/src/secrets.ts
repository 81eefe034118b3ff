import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Passwords of a local stack: generated once, kept in its `secrets.json` (mode 600, git-ignored). */
export interface Secrets {
  rabbitmqUser: string;
  rabbitmqPassword: string;
  redisPassword: string;
  valkeyPassword: string;
  /** Kafka's SASL/SCRAM-SHA-512 user, the one every client (and the broker itself, inter-broker) logs in as. */
  kafkaUser: string;
  kafkaPassword: string;
}

const password = () => randomBytes(18).toString('base64url');

/** What a new stack gets; also fills in what a file written by an older stack lacks. */
const generated = (): Secrets => ({
  rabbitmqUser: 'tandem',
  rabbitmqPassword: password(),
  redisPassword: password(),
  valkeyPassword: password(),
  kafkaUser: 'tandem',
  kafkaPassword: password(),
});

/**
 * The stack's secrets, created on first use. A file from before a secret existed (e.g. without Kafka's, which came
 * later) gets the missing ones generated and added; the ones it has are kept as they are.
 */
export function loadOrCreateSecrets(path: string): Secrets {
  const existing = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Partial<Secrets>) : {};
  const fresh = generated();
  const missing = (Object.keys(fresh) as (keyof Secrets)[]).filter((key) => !existing[key]);
  if (missing.length === 0) return existing as Secrets;
  const secrets = {
    ...fresh,
    ...Object.fromEntries(Object.entries(existing).filter(([, v]) => v)),
  } as Secrets;
  mkdirSync(dirname(path), { recursive: true });
  // Whole or not at all: a reader never sees half a file, and a crash never leaves one without the old passwords.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, path);
  // Read back: what the file holds is what the servers get, even when another process filled it in meanwhile.
  return JSON.parse(readFileSync(path, 'utf8')) as Secrets;
}
