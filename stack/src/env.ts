import { writeFileSync } from 'node:fs';
import type { Secrets } from './secrets.ts';
import type { LocalServer } from './servers/types.ts';

/**
 * The connection settings a stack writes to its env file, one variable per server: KAFKA_BROKERS, RABBITMQ_URL,
 * REDIS_URL, VALKEY_URL (`redis://` for both RESP servers).
 */
export function connectionSettings(
  secrets: Secrets,
  servers: readonly LocalServer[],
): Record<string, string> {
  return Object.fromEntries(servers.map((server) => server.connection(secrets)));
}

export function writeStackEnv(settings: Record<string, string>, path: string): void {
  const lines = Object.entries(settings).map(([name, value]) => `${name}=${value}`);
  writeFileSync(
    path,
    `# Written by \`npm run stack:up\`: the local stack's connection settings.\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
}
