// The live comparison page in a real browser: headless Chromium watches it while messages go through the edge, and
// what it shows must be what both stores hold; each pipeline shows its latency; a stopped consumer shows as a
// backlog that grows. Screenshots are left in e2e/artifacts/ (git-ignored).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Counts } from '@tandem/counting';
import { localStack } from '@tandem/stack';
import { type LivePage, livePagePort, startLivePageFor } from '@tandem/system';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactsDir, launchChromium } from './browser.ts';
import { type RunningPipeline, startPipeline } from './pipeline-setup.ts';
import { freePortBase, holdDatabase } from './run-slot.ts';
import { postAccepted } from './send.ts';

// Database 11 is this file's (the others have theirs); a second run at once waits for it (run-slot.ts).
const db = 11;
let hold: Awaited<ReturnType<typeof holdDatabase>> | undefined;
let pipeline: RunningPipeline;
let live: LivePage;
let browser: Browser;
let page: Page;
/** The run's own suffix, for its screenshots. */
const runId = randomUUID().slice(0, 8);

beforeAll(async () => {
  hold = await holdDatabase(localStack().env().REDIS_URL, db, { waitMs: 240_000 });
  const portBase = await freePortBase();
  pipeline = await startPipeline(portBase, { run: 'live', db });
  live = await startLivePageFor(pipeline.system, { port: livePagePort(portBase) });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 420_000); // up to 4 minutes waiting for another run's hold on the database, then 3 to start

afterAll(async () => {
  await browser?.close();
  await live?.close();
  await pipeline?.stop();
  await hold?.release();
}, 120_000);

function send(countries: readonly string[]): Promise<unknown> {
  return Promise.all(
    countries.map((country, i) =>
      postAccepted(pipeline.system.edgeUrl, '/input', {
        description: `mensaje ${i}`,
        country,
        weather: i % 2 ? 'Lluvioso' : 'Soleado',
      }),
    ),
  );
}

/** The number the page shows in an element (its data-value), or null when it shows none (down, or not yet). */
const shown = (testId: string) =>
  page
    .locator(`[data-testid="${testId}"]`)
    .first()
    .getAttribute('data-value', { timeout: 1000 })
    .then(
      (value) => (value === null ? null : Number(value)),
      () => null,
    );

/** Waits until the page shows `value` in the element. */
async function waitShown(testId: string, value: number, timeoutMs = 30_000): Promise<void> {
  await expect.poll(() => shown(testId), { timeout: timeoutMs, interval: 200 }).toBe(value);
}

describe('the live comparison page', () => {
  it('shows what both stores hold, per country, and each pipeline’s latency', async () => {
    await page.goto(live.url);
    await page.waitForSelector('#status.live', { timeout: 15_000 });
    const countries = [...Array(5).fill('GT'), ...Array(3).fill('SV'), ...Array(2).fill('HN'), 'CR'];
    await send(countries);
    await waitShown('total-kafka-redis', countries.length);
    await waitShown('total-rabbitmq-valkey', countries.length);

    // What the stores hold now, and what the page shows once it has had a reading after that.
    const stores: Record<'redis' | 'valkey', Counts> = {
      redis: await pipeline.redis.counts(),
      valkey: await pipeline.valkey.counts(),
    };
    expect(stores.redis.byCountry).toEqual({ GT: 5, SV: 3, HN: 2, CR: 1 });
    expect(stores.valkey.byCountry).toEqual(stores.redis.byCountry);
    for (const [country, count] of Object.entries(stores.redis.byCountry)) {
      await waitShown(`country-${country}-redis`, count);
      expect(await shown(`country-${country}-valkey`)).toBe(stores.valkey.byCountry[country]);
      await expect(page.locator(`[data-testid="country-${country}-diff"]`).textContent()).resolves.toBe('0');
    }
    expect(await shown('sum-redis')).toBe(stores.redis.total);
    expect(await shown('sum-valkey')).toBe(stores.valkey.total);
    await expect(page.locator('[data-testid="verdict"]').textContent()).resolves.toContain('agree exactly');

    for (const id of ['kafka-redis', 'rabbitmq-valkey']) {
      const latency = page.locator(`[data-testid="latency-${id}"]`);
      await page.locator(`[data-testid="latency-${id}"][data-p99]`).waitFor({ timeout: 15_000 });
      const [p50, p99] = await Promise.all([
        latency.getAttribute('data-p50'),
        latency.getAttribute('data-p99'),
      ]);
      expect(Number(p50)).toBeGreaterThanOrEqual(0);
      expect(Number(p99)).toBeGreaterThanOrEqual(Number(p50));
      await expect(latency.textContent()).resolves.toMatch(/[\d,]+ ms p50 · [\d,]+ ms p99/);
    }
    // The per-second charts have a few points by now.
    await page.waitForTimeout(3000);
    const screenshot = join(artifactsDir, `live-page-${runId}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`live page screenshot: ${screenshot}`);
  }, 120_000);

  it('shows a stopped consumer as a backlog that grows, and that consumer as not answering', async () => {
    const before = (await pipeline.redis.counts()).total;
    await pipeline.system.stop('kafka-consumer', 'SIGTERM');
    await send(Array(10).fill('MX'));
    await waitShown('backlog-kafka-redis', 10);
    await send(Array(15).fill('MX'));
    await waitShown('backlog-kafka-redis', 25);
    // The other pipeline goes on: Valkey has them, Redis does not, and the page says they differ.
    await waitShown('total-rabbitmq-valkey', before + 25);
    expect(await shown('total-kafka-redis')).toBe(before);
    await expect(page.locator('[data-testid="verdict"]').textContent()).resolves.toMatch(/differ/);
    await expect(page.locator('[data-testid="latency-kafka-redis"]').getAttribute('data-down')).resolves.toBe(
      'true',
    );
    await expect(page.locator('[data-testid="pipeline-kafka-redis"]').textContent()).resolves.toContain(
      'kafka-consumer is not answering',
    );
    const screenshot = join(artifactsDir, `live-page-consumer-stopped-${runId}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`live page screenshot (kafka-consumer stopped): ${screenshot}`);

    // Started again, it catches up, and the page shows the stores agreeing again.
    await pipeline.system.start('kafka-consumer');
    await waitShown('backlog-kafka-redis', 0);
    await waitShown('total-kafka-redis', before + 25);
    await page.locator('.verdict.agree').waitFor({ timeout: 15_000 });
  }, 120_000);
});
