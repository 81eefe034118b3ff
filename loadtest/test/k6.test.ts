/**
 * The k6 scripts, checked with the real k6 (the pinned build that test/global-setup.ts installs, or K6): every
 * scenario parses and has the executor it promises, and the generator makes messages the edge accepts (and invalid
 * ones it rejects), with the weights the README claims.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '@tandem/config';
import { parseMessageInput } from '@tandem/message';
import { describe, expect, inject, it } from 'vitest';
import { scenarios, scriptsDir } from '../src/k6.ts';

const k6 = inject('k6');

describe('k6 scripts', () => {
  const executors: Record<string, string> = {
    smoke: 'shared-iterations',
    steady: 'constant-arrival-rate',
    ramp: 'ramping-arrival-rate',
    spike: 'ramping-arrival-rate',
    soak: 'constant-arrival-rate',
    batch: 'constant-arrival-rate',
  };
  it.each(scenarios)('%s parses, reads its settings from the environment and has thresholds', (scenario) => {
    // `k6 inspect` passes only -e variables to __ENV (`k6 run` passes the whole environment).
    const script = join(scriptsDir, `${scenario}.js`);
    const result = spawnSync(k6, ['inspect', '-e', 'RATE=7', '-e', 'P95_MS=123', script], {
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    const options = JSON.parse(result.stdout);
    const config = options.scenarios[scenario];
    expect(config.executor).toBe(executors[scenario]);
    if ('rate' in config) expect(config.rate).toBe(7);
    expect(options.thresholds['http_req_duration{kind:first}']).toContain('p(95)<123');
    expect(Object.keys(options.thresholds)).toEqual(
      expect.arrayContaining(['http_req_failed', 'checks', 'http_req_duration{kind:first}']),
    );
  });

  it('generates valid messages in English and Spanish, from weighted countries, and invalid ones', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tandem-k6-')), 'generated.json');
    const result = spawnSync(k6, ['run', '--quiet', join(projectRoot, 'loadtest/test/generator.k6.js')], {
      encoding: 'utf8',
      env: { ...process.env, OUT: out, SEED: '42' },
    });
    expect(result.status, result.stderr).toBe(0);
    const { valid, invalid } = JSON.parse(readFileSync(out, 'utf8')) as {
      valid: unknown[];
      invalid: unknown[];
    };
    const parsed = valid.map((m) => parseMessageInput(m));
    expect(parsed.filter((p) => !p.ok)).toEqual([]);
    expect(invalid.map((m) => parseMessageInput(m).ok)).not.toContain(true);
    const values = parsed.flatMap((p) => (p.ok ? [p.value] : []));
    const share = (test: (m: (typeof values)[number]) => boolean) =>
      values.filter(test).length / values.length;
    expect(share((m) => m.country === 'GT' || m.country === 'GUATEMALA')).toBeGreaterThan(0.2);
    expect(new Set(values.map((m) => m.weather))).toEqual(new Set(['Sunny', 'Cloudy', 'Rainy']));
    const spanish = (valid as { weather: string }[]).filter((m) =>
      /^(soleado|nublado|nubloso|lluvioso)$/i.test(m.weather),
    );
    expect(spanish.length / valid.length).toBeGreaterThan(0.3);
    expect(spanish.length / valid.length).toBeLessThan(0.5);
  });

  it('sends API_KEY as a Bearer token on every request (the first of a comma-separated list), and none without', async () => {
    // A stand-in edge that records each request's Authorization header and accepts everything.
    const seen: (string | undefined)[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers.authorization);
      request.resume().on('end', () => {
        response.writeHead(request.url === '/ready' ? 200 : 202, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ id: 'x', ids: [], status: 'accepted' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // k6 runs asynchronously here: the stand-in edge answers in this same process.
    const smoke = (apiKey?: string) =>
      new Promise<number | null>((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env, BASE_URL: baseUrl, ITERATIONS: '4', VUS: '1' };
        if (apiKey === undefined) delete env.API_KEY;
        else env.API_KEY = apiKey;
        spawn(k6, ['run', '--quiet', '--no-summary', join(scriptsDir, 'smoke.js')], {
          env,
          stdio: 'ignore',
        }).on('exit', resolve);
      });
    try {
      await smoke('first-key-0123456789,second-key-0123456789');
      expect(seen.length).toBeGreaterThan(4);
      expect(new Set(seen)).toEqual(new Set(['Bearer first-key-0123456789']));
      seen.length = 0;
      await smoke();
      expect(seen.length).toBeGreaterThan(4);
      expect(new Set(seen)).toEqual(new Set([undefined]));
    } finally {
      server.close();
    }
  });
});
