// The Grafana dashboards (k8s/components/grafana/dashboards) proven on real data, without Grafana: load goes through
// the edge while a local Prometheus scrapes the four services with the Kubernetes component's scrape settings; then
// every PromQL expression of every panel must return series with data, and every Redis-datasource panel's command
// must answer from Redis and from Valkey (the same answer: both pipelines caught up).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '@tandem/config';
import { openRedisStore, openValkeyStore } from '@tandem/counting';
import { type LocalPrometheus, prometheusPort, startPrometheus } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningPipeline, startPipeline } from './pipeline-setup.ts';
import { postAccepted } from './send.ts';

interface Target {
  refId: string;
  datasource?: { type?: string; uid?: string };
  expr?: string;
  type?: string;
  command?: string;
  keyName?: string;
}
interface Panel {
  title: string;
  type: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}

const dashboardsDir = join(projectRoot, 'k8s/components/grafana/dashboards');
const dashboards = readdirSync(dashboardsDir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    file,
    ...(JSON.parse(readFileSync(join(dashboardsDir, file), 'utf8')) as { panels: Panel[] }),
  }));
const allPanels = (panels: readonly Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const queries = dashboards.flatMap(({ file, panels }) =>
  allPanels(panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `${file} "${panel.title}" ${target.refId}`,
      type: target.datasource?.type ?? panel.datasource?.type,
      target,
    })),
  ),
);

const portBase = 18_920;
let pipeline: RunningPipeline;
let prometheus: LocalPrometheus;

beforeAll(async () => {
  pipeline = await startPipeline(portBase, { run: 'dashboards', db: 9 });
  prometheus = await startPrometheus({
    instances: pipeline.system.instances,
    port: prometheusPort(portBase),
    fresh: true,
  });
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await pipeline?.stop();
}, 120_000);

/**
 * Grafana's `$__rate_interval`: max(4 × scrape interval, $__interval + scrape interval); with a 30-minute view
 * `$__interval` is a few seconds, so four scrape intervals.
 */
function grafanaVariables(expr: string, scrapeSeconds: number): string {
  return expr
    .replaceAll('$__rate_interval', `${4 * scrapeSeconds}s`)
    .replaceAll('$__interval', `${scrapeSeconds}s`)
    .replaceAll('$__range', '30m');
}

interface PromResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string, at: number): Promise<PromResult> {
  const url = `${prometheus.url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(at / 1000) })}`;
  return (await (await fetch(url)).json()) as PromResult;
}

/** Messages through the edge for `ms`: single ones, and a batch now and then (both routes the panels show). */
async function load(ms: number): Promise<void> {
  const until = Date.now() + ms;
  const countries = ['GT', 'SV', 'HN', 'MX', 'CR'];
  const edge = pipeline.system.edgeUrl;
  for (let round = 1; Date.now() < until; round += 1) {
    const message = (i: number) => ({
      description: `carga ${round}-${i}`,
      country: countries[(round + i) % countries.length] as string,
      weather: i % 2 ? 'Lluvioso' : 'Soleado',
    });
    await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => postAccepted(edge, '/input', message(i))),
      postAccepted(
        edge,
        '/input/batch',
        Array.from({ length: 5 }, (_, i) => message(100 + i)),
      ),
    ]);
    await sleep(250);
  }
}

describe('the Grafana dashboards, on data', () => {
  it('has panels to prove', () => {
    expect(queries.filter((q) => q.type === 'prometheus').length).toBeGreaterThan(0);
    expect(queries.filter((q) => q.type === 'redis-datasource').length).toBeGreaterThan(0);
    expect(queries.every((q) => q.type === 'prometheus' || q.type === 'redis-datasource')).toBe(true);
  });

  it('every PromQL expression returns series with data after load', async () => {
    const scrape = prometheus.scrapeIntervalSeconds;
    // Long enough for every rate window ($__rate_interval, four scrapes) to hold several scrapes under load.
    await load((4 * scrape + 2 * scrape) * 1000);
    const at = Date.now();
    // One more scrape after the load, so that what it did is in Prometheus.
    await sleep((scrape + 2) * 1000);
    const empty: string[] = [];
    for (const { where, type, target } of queries) {
      if (type !== 'prometheus') continue;
      const expr = grafanaVariables(target.expr ?? '', scrape);
      const answer = await query(expr, at);
      expect(answer.status, `${where}: ${answer.error}`).toBe('success');
      const withData = (answer.data?.result ?? []).filter(({ value }) => Number.isFinite(Number(value[1])));
      if (withData.length === 0) empty.push(`${where}: ${expr} → ${JSON.stringify(answer.data?.result)}`);
    }
    expect(empty, 'panels that return no data').toEqual([]);
  }, 240_000);

  it("every Redis-datasource panel's command answers from Redis and from Valkey, the same", async () => {
    const stores = await Promise.all([
      openRedisStore(pipeline.system.env.REDIS_URL as string, { dedupTtlSeconds: 1 }),
      openValkeyStore(pipeline.system.env.VALKEY_URL as string, { dedupTtlSeconds: 1 }),
    ]);
    try {
      // Both pipelines caught up with the load before the stores are compared.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const [redis, valkey] = await Promise.all(stores.map((s) => s.counts()));
        if (redis?.total === valkey?.total) break;
        await sleep(200);
      }
      for (const { where, type, target } of queries) {
        if (type !== 'redis-datasource') continue;
        expect(target.type, where).toBe('command');
        const args = [target.command as string, ...(target.keyName ? [target.keyName] : [])];
        const [redis, valkey] = await Promise.all(stores.map((s) => s.client.call(...(args as [string]))));
        expect(redis, `${where} on Redis: ${args.join(' ')}`).toBeTruthy();
        expect(Array.isArray(redis) ? redis.length : String(redis).length, where).toBeGreaterThan(0);
        expect(valkey, `${where} on Valkey`).toEqual(redis);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  }, 60_000);
});
