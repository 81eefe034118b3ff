import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LivePage, startLivePage } from '../src/live/server.ts';
import type { LiveView } from '../src/live/view.ts';

let page: LivePage;

/** A port nothing listens on (one that was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  // Every source on a port nothing listens on: the page must say so, source by source.
  const port = await closedPort();
  const nowhere = `http://127.0.0.1:${port}`;
  page = await startLivePage({
    port: 0,
    intervalMs: 200,
    sources: {
      redisUrl: `redis://127.0.0.1:${port}`,
      valkeyUrl: `redis://127.0.0.1:${port}`,
      kafka: {
        brokers: [`127.0.0.1:${port}`],
        topic: 'message',
        groupId: 'g',
        deadLetterTopic: 'message.dlq',
      },
      rabbitmq: { url: `amqp://127.0.0.1:${port}`, queue: 'message', deadLetterQueue: 'message.dlq' },
      metrics: { edge: nowhere, ingest: nowhere, kafkaConsumer: nowhere, rabbitConsumer: nowhere },
      timeoutMs: 1000,
    },
  });
});
afterAll(() => page.close());

describe('the live page server', () => {
  it('serves the page and its own script and style (nothing from elsewhere)', async () => {
    const html = await (await fetch(page.url)).text();
    expect(html).toContain('<script src="/app.js">');
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/app.js', '/app.css']) {
      const response = await fetch(`${page.url}${asset}`);
      expect(response.status).toBe(200);
      expect(await response.text()).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    }
    expect((await fetch(`${page.url}/nothing`)).status).toBe(404);
  });

  it('shows every source that does not answer as down, with why', async () => {
    const view = (await (await fetch(`${page.url}/view.json`)).json()) as LiveView;
    for (const pipeline of view.pipelines) {
      expect(pipeline.total.ok).toBe(false);
      expect(pipeline.backlog.ok).toBe(false);
      expect(pipeline.consumer).toMatchObject({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
    }
    expect(view.countries).toEqual([]);
    expect(view.differences).toBeNull();
    expect(view.edge.ok).toBe(false);
  }, 15_000);

  it('pushes a view every interval over server-sent events', async () => {
    const response = await fetch(`${page.url}/events`);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/^data: /gm) ?? []).length < 2) text += decoder.decode((await reader.read()).value);
    await reader.cancel();
    const views = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as LiveView);
    expect(views.length).toBeGreaterThanOrEqual(2);
  }, 15_000);
});
