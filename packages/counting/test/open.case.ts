/** Cases for openRedisStore/openValkeyStore themselves: connection options, the key prefix, failing to connect. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keys } from '../src/index.ts';
import { deleteKeys, type OpenStore, testPrefix } from './server-harness.ts';

export function describeOpen(name: string, url: string, open: OpenStore): void {
  describe(name, () => {
    let admin: Redis;
    let prefix: string;

    beforeEach(() => {
      admin = new Redis(url);
      prefix = testPrefix();
    });

    afterEach(async () => {
      await deleteKeys(admin, prefix);
      await admin.quit();
    });

    it('names the connection and prefixes every key the script touches', async () => {
      const connectionName = `tandem-counting-${randomUUID().slice(0, 8)}`;
      const store = await open(url, { keyPrefix: prefix, connectionName });
      try {
        const id = randomUUID();
        await store.apply([{ id, country: 'GT', weather: 'Rainy' }]);
        expect(String(await admin.client('LIST'))).toContain(`name=${connectionName}`);
        const written = await admin.keys(`${prefix}*`);
        expect(written.sort()).toEqual(
          [keys.countryCounts, keys.countryWeatherCounts, keys.total, keys.seen(id), keys.weatherCounts]
            .map((key) => `${prefix}${key}`)
            .sort(),
        );
        expect(await admin.exists(keys.seen(id))).toBe(0);
      } finally {
        await store.close();
      }
    });

    it("rejects with the server's reason when the password is wrong", async () => {
      const wrong = new URL(url);
      wrong.password = 'wrong';
      await expect(open(wrong.href, {})).rejects.toThrow(/WRONGPASS|NOAUTH|invalid password/i);
    });

    it('rejects when nothing listens', async () => {
      await expect(open('redis://127.0.0.1:1', {})).rejects.toThrow(/ECONNREFUSED/);
    });

    it('rejects a dedup window that is not a positive whole number of seconds', async () => {
      await expect(open(url, { dedupTtlSeconds: 0 })).rejects.toThrow(RangeError);
      await expect(open(url, { dedupTtlSeconds: 1.5 })).rejects.toThrow(RangeError);
    });
  });
}
