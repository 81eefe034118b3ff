/**
 * The URLs in `.stack/env` work as they are with the servers' own command-line clients, not only with the
 * project's client libraries: `redis-cli -u "$REDIS_URL" PING` answers PONG. (Debian's redis-tools and
 * valkey-tools, which redis-server and valkey-server depend on, so `stack:up` installs them.) With
 * `redis://:password@…` Redis 7.0's redis-cli sends `AUTH "" password` and gets WRONGPASS; the URLs name the
 * `default` user for that. Needs the stack running (`npm test` starts it).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadStackEnv } from '@tandem/config';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

beforeAll(() => {
  if (!loadStackEnv()) throw new Error('no .stack/env: start the local stack with `npm run stack:up`');
});

function setting(name: 'REDIS_URL' | 'VALKEY_URL' | 'RABBITMQ_URL'): string {
  const value = process.env[name];
  if (!value) throw new Error(`.stack/env has no ${name}`);
  return value;
}

/** The client's answer on stdout (it warns about a password on the command line on stderr). */
async function ask(cli: string, url: string, ...command: string[]): Promise<string> {
  try {
    const { stdout } = await run(cli, ['-u', url, ...command], { encoding: 'utf8', timeout: 10_000 });
    return stdout.trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${cli} is not installed (Debian: ${cli.replace('-cli', '-tools')})`);
    }
    throw error;
  }
}

describe.each([
  { name: 'Redis', variable: 'REDIS_URL', clis: ['redis-cli'] },
  { name: 'Valkey', variable: 'VALKEY_URL', clis: ['redis-cli', 'valkey-cli'] },
] as const)('$name with $variable', ({ variable, clis }) => {
  it.each(clis)(`%s -u "$${variable}" PING answers PONG`, async (cli) => {
    expect(await ask(cli, setting(variable), 'PING')).toBe('PONG');
  });

  it('names the default user, so the client authenticates as it', async () => {
    const url = setting(variable);
    expect(new URL(url).username).toBe('default');
    expect(await ask('redis-cli', url, 'ACL', 'WHOAMI')).toBe('default');
  });
});

describe('RabbitMQ with RABBITMQ_URL', () => {
  it('names no vhost, so every AMQP client uses the default one, "/"', () => {
    // By the AMQP URI spec a URL without a path means the default vhost; a trailing "/" would name the empty
    // vhost "" instead, which librabbitmq's amqp-tools (and others) then fail to open: NOT_ALLOWED.
    const url = new URL(setting('RABBITMQ_URL'));
    expect(url.protocol).toBe('amqp:');
    expect(url.pathname).toBe('');
    expect(url.username).toBe('tandem');
    expect(url.password).not.toBe('');
  });
});
