import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Counter } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';
import { startMetricsServer } from '../src/metrics.ts';

describe('startMetricsServer', () => {
  it('serves the registry on /metrics, health on /health, extra routes, 404 elsewhere', async () => {
    new Counter({ name: 'service_test_total', help: 'a test counter' }).inc(3);
    const server = await startMetricsServer(0, {
      host: '127.0.0.1',
      routes: { 'POST /extra': (_, response) => response.writeHead(200).end('extra') },
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain('service_test_total 3');
      expect(text).toContain('process_cpu_user_seconds_total');
      expect((await fetch(`${base}/health`)).status).toBe(200);
      expect(await (await fetch(`${base}/extra?x=1`, { method: 'POST' })).text()).toBe('extra');
      expect((await fetch(`${base}/extra`)).status).toBe(404);
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});

describe('createLogger', () => {
  it('censors passwords and URLs wherever they appear', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger('test', 'info', sink);
    logger.info({ password: 'hunter2', redis: { url: 'redis://:hunter2@h:1' } }, 'connecting');
    expect(lines.join('')).not.toContain('hunter2');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      service: 'test',
      password: '***',
      redis: { url: '***' },
    });
  });
});
