import { writeFileSync } from 'node:fs';
import type { Secrets } from './secrets.ts';
import type { LocalServer } from './servers/types.ts';

/**
 * The connection settings a stack writes to its env file: KAFKA_BROKERS with Kafka's SASL/SCRAM credentials
 * (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD), RABBITMQ_URL, REDIS_URL, VALKEY_URL (`redis://`
 * for both RESP servers).
 */
export function connectionSettings(
  secrets: Secrets,
  servers: readonly LocalServer[],
): Record<string, string> {
  return Object.assign({}, ...servers.map((server) => server.connection(secrets)));
}

export function writeStackEnv(settings: Record<string, string>, path: string): void {
  const lines = Object.entries(settings).map(([name, value]) => `${name}=${value}`);
  writeFileSync(
    path,
    `# Written by \`npm run stack:up\`: the local stack's connection settings.\n${lines.join('\n')}\n`,
    { mode: 0o600 },
  );
}
