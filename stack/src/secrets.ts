import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Passwords of a local stack: generated once, kept in its `secrets.json` (mode 600, git-ignored). */
export interface Secrets {
  rabbitmqUser: string;
  rabbitmqPassword: string;
  redisPassword: string;
  valkeyPassword: string;
}

const password = () => randomBytes(18).toString('base64url');

export function loadOrCreateSecrets(path: string): Secrets {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as Secrets;
  const secrets: Secrets = {
    rabbitmqUser: 'tandem',
    rabbitmqPassword: password(),
    redisPassword: password(),
    valkeyPassword: password(),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
