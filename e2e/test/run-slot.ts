// What lets one e2e file run twice at once on the shared local stack (two checkouts, or a rerun while one is still
// going): a block of ports found free, and the Redis / Valkey database held while the run uses it. The topic, group
// and queue are already the run's own (`run` gives them a random suffix).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { openRedisStore } from '@tandem/counting';

/** Whether nothing listens on `port`, on any address (the services bind every interface). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/**
 * A port base (a multiple of 10 in 20000..39990) whose ten ports (`plan` in @tandem/system uses base..base+9) are
 * all free now. Picked at random, so that two runs starting together do not probe the same block first.
 */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 10 * Math.floor(Math.random() * 2_000);
    const free = await Promise.all(Array.from({ length: 10 }, (_, i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no free block of 10 ports found in 20000..39999');
}

/**
 * Holds database `db` (Redis and Valkey alike) for one run: there are only 16 database numbers, too few to give
 * every run its own, and a second run of the same file would empty the first's database at its start and count
 * into it. So a second run waits until the first is done. The hold is a key in database 0 of the stack's Redis
 * (SET NX with an expiry, renewed while held, so that a run that died frees it within `ttlMs`), released at the end.
 */
export async function holdDatabase(
  redisUrl: string,
  db: number,
  { waitMs = 600_000, ttlMs = 30_000 } = {},
): Promise<{ release(): Promise<void> }> {
  const url = new URL(redisUrl);
  url.pathname = '/0';
  const store = await openRedisStore(url.toString(), { connectionName: 'tandem-e2e-hold' });
  const { client } = store;
  const key = `tandem:e2e:hold:db${db}`;
  const owner = randomUUID();
  const until = Date.now() + waitMs;
  try {
    while ((await client.set(key, owner, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > until) {
        throw new Error(`database ${db} is still held by another run (${key}) after ${waitMs} ms`);
      }
      await sleep(500);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  const renew = setInterval(() => {
    void client.pexpire(key, ttlMs).catch(() => {});
  }, ttlMs / 3);
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      try {
        // Only our own hold: compare and delete in one step.
        await client.eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
          1,
          key,
          owner,
        );
      } finally {
        await store.close();
      }
    },
  };
}
