/**
 * What one idempotency record costs in memory on the Redis and the Valkey of the local stack.
 *
 * Writes N records exactly as the counting script does (`SET seen:<uuid> 1 NX EX <dedup window>`, a 36-character
 * id as the edge assigns), then reports
 *   - MEMORY USAGE of a sample of them (SAMPLES 0): the key, its value and its entry in the keyspace, as the server
 *     accounts for one key;
 *   - the growth of INFO used_memory divided by N: also the entry in the expires table and the hash tables' growth.
 *     Others' traffic on the same server adds noise to this one; run it twice.
 * Then deletes exactly the records it created. Usage: node scripts/memory-per-id.ts [N=100000]
 */
import { randomUUID } from 'node:crypto';
import { loadStackEnv } from '@tandem/config';
import { Redis } from 'ioredis';
import { Redis as Valkey } from 'iovalkey';
import { DEFAULT_DEDUP_TTL_SECONDS, keys } from '../src/index.ts';

const count = Number(process.argv[2] ?? 100_000);
const chunk = 10_000;
const sampleSize = 1_000;

/** The commands used here, which ioredis's and iovalkey's clients both have. */
interface Client {
  set(key: string, value: string, nx: 'NX', ex: 'EX', seconds: number): Promise<string | null>;
  memory(subcommand: 'USAGE', key: string, samples: 'SAMPLES', count: number): Promise<number | null>;
  info(section: 'memory' | 'server'): Promise<string>;
  unlink(...keys: string[]): Promise<number>;
  quit(): Promise<unknown>;
}

function infoField(info: string, field: string): string {
  const line = info.split('\r\n').find((entry) => entry.startsWith(`${field}:`));
  if (!line) throw new Error(`INFO has no ${field}`);
  return line.slice(field.length + 1);
}

async function measure(name: string, client: Client) {
  const server = await client.info('server');
  const version = server.includes('valkey_version:')
    ? `Valkey ${infoField(server, 'valkey_version')}`
    : `Redis ${infoField(server, 'redis_version')}`;
  const before = Number(infoField(await client.info('memory'), 'used_memory'));
  const created: string[] = [];
  for (let start = 0; start < count; start += chunk) {
    const batch = Array.from({ length: Math.min(chunk, count - start) }, () => keys.seen(randomUUID()));
    const replies = await Promise.all(
      batch.map((key) => client.set(key, '1', 'NX', 'EX', DEFAULT_DEDUP_TTL_SECONDS)),
    );
    created.push(...batch.filter((_, index) => replies[index] === 'OK'));
  }
  const after = Number(infoField(await client.info('memory'), 'used_memory'));
  let usage = 0;
  const sample = created.slice(0, sampleSize);
  for (const key of sample) usage += (await client.memory('USAGE', key, 'SAMPLES', 0)) ?? 0;
  for (let start = 0; start < created.length; start += chunk)
    await client.unlink(...created.slice(start, start + chunk));
  await client.quit();
  return {
    server: `${name} (${version})`,
    'MEMORY USAGE (bytes/id)': Math.round((usage / sample.length) * 10) / 10,
    'used_memory growth (bytes/id)': Math.round(((after - before) / created.length) * 10) / 10,
    ids: created.length,
  };
}

loadStackEnv();
const { REDIS_URL, VALKEY_URL } = process.env;
if (!REDIS_URL || !VALKEY_URL) throw new Error('REDIS_URL and VALKEY_URL must be set (npm run stack:up)');
console.table([
  await measure('redis', new Redis(REDIS_URL) as unknown as Client),
  await measure('valkey', new Valkey(VALKEY_URL) as unknown as Client),
]);
