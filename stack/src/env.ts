import { writeFileSync } from 'node:fs';
import { stackEnvFile } from './paths.ts';
import type { Secrets } from './secrets.ts';
import { kafkaPort } from './servers/kafka.ts';
import { rabbitmqUrl } from './servers/rabbitmq.ts';
import { redis, valkey } from './servers/resp.ts';

/**
 * The connection settings DESIGN.md promises in `.stack/env`; `redis://` for both RESP servers, naming the
 * `default` user: with `redis://:password@…` Redis 7.0's redis-cli (and valkey-cli) sends `AUTH "" password`
 * and gets WRONGPASS, while ioredis and iovalkey take either form.
 */
export function connectionSettings(secrets: Secrets): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
    RABBITMQ_URL: rabbitmqUrl(secrets),
    REDIS_URL: `redis://default:${encodeURIComponent(secrets.redisPassword)}@127.0.0.1:${redis.ports[0]}`,
    VALKEY_URL: `redis://default:${encodeURIComponent(secrets.valkeyPassword)}@127.0.0.1:${valkey.ports[0]}`,
  };
}

export function writeStackEnv(secrets: Secrets, path = stackEnvFile): void {
  const lines = Object.entries(connectionSettings(secrets)).map(([name, value]) => `${name}=${value}`);
  writeFileSync(
    path,
    `# Written by \`npm run stack:up\`: the local stack's connection settings.\n${lines.join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
}
