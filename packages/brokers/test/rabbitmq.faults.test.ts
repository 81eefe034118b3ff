/**
 * RabbitMQ faults: the broker going away and coming back, through a TCP proxy (the shared stack keeps running),
 * and a queue deleted under a running publisher.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  BrokerUnavailableError,
  createRabbitPublisher,
  createRabbitSubscriber,
  rabbitQueueBacklog,
  removeRabbitQueues,
} from '../src/index.ts';
import { collect, makeEnvelopes, waitFor } from './broker.case.ts';
import { testLogger as logger, required, suffix } from './support.ts';
import { startProxy } from './tcp-proxy.ts';

const url = required('RABBITMQ_URL');

/** A TCP proxy in front of the local RabbitMQ, and the URL through it. */
async function proxied() {
  const target = new URL(url);
  const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5672) });
  const viaProxy = new URL(url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: viaProxy.toString() };
}

describe('rabbitmq faults', () => {
  it('rejects publishes at once while the broker is away, then reconnects and delivers everything', async () => {
    const { proxy, url: viaProxy } = await proxied();
    const queue = `brokers-test-${suffix()}`;
    const options = { url: viaProxy, queue, logger, maxReconnectDelayMs: 300 };
    const publisher = await createRabbitPublisher(options);
    const subscriber = await createRabbitSubscriber({
      ...options,
      maxBatch: 50,
      lingerMs: 10,
      retryDelayMs: 10,
    });
    onTestFinished(async () => {
      await subscriber.close();
      await publisher.close();
      await proxy.close();
      await removeRabbitQueues({ url, queues: [queue] });
    });
    const seen = collect();
    await subscriber.start(seen.handler);

    const before = makeEnvelopes(20, 'before');
    await publisher.publish(before);
    await waitFor(() => seen.distinct.size === 20, 'the first 20 delivered');

    // A publish in flight when the connection drops settles (either way) instead of hanging.
    const caught = makeEnvelopes(200, 'caught');
    const inFlight = publisher.publish(caught).then(
      () => 'confirmed',
      (error: unknown) => error,
    );
    proxy.cut();
    const outcome = await inFlight;
    expect(outcome === 'confirmed' || outcome instanceof BrokerUnavailableError).toBe(true);

    await waitFor(() => !publisher.isReady() && !subscriber.isReady(), 'both notice the outage', 5000);
    const started = performance.now();
    await expect(publisher.publish(makeEnvelopes(1, 'during'))).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    );
    // At once: neither held until the broker is back nor until the 10 s confirm timeout.
    expect(performance.now() - started).toBeLessThan(1000);

    proxy.restore();
    await waitFor(() => publisher.isReady() && subscriber.isReady(), 'both reconnected', 10_000);
    // The caller's retry after a rejection: same ids again (counting downstream is idempotent).
    if (outcome !== 'confirmed') await publisher.publish(caught);
    const after = makeEnvelopes(20, 'after');
    await publisher.publish(after);
    const everything = [...before, ...caught, ...after].map((envelope) => envelope.id);
    await waitFor(() => everything.every((id) => seen.distinct.has(id)), 'everything delivered', 10_000);
  });

  it('rejects a publish the broker could not route (its queue was deleted), though the broker confirmed it', async () => {
    const queue = `brokers-test-${suffix()}`;
    const publisher = await createRabbitPublisher({ url, queue, logger });
    onTestFinished(() => publisher.close());
    await publisher.publish(makeEnvelopes(1, 'routed'));
    expect(await removeRabbitQueues({ url, queues: [queue] })).toEqual([queue]);
    await expect(publisher.publish(makeEnvelopes(1, 'lost'))).rejects.toThrow(/does not exist/);
  });

  it('rejects a publish the broker does not confirm in time, once, and publishes on when it answers again', async () => {
    const { proxy, url: viaProxy } = await proxied();
    const queue = `brokers-test-${suffix()}`;
    const publisher = await createRabbitPublisher({ url: viaProxy, queue, logger, confirmTimeoutMs: 500 });
    onTestFinished(async () => {
      await publisher.close();
      await proxy.close();
      await removeRabbitQueues({ url, queues: [queue] });
    });
    await publisher.publish(makeEnvelopes(5, 'before'));

    proxy.hold();
    const started = performance.now();
    await expect(publisher.publish(makeEnvelopes(50, 'stalled'))).rejects.toThrow(/no confirm within 500 ms/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(490);

    // On release the stalled call reaches the broker; its late confirms change nothing, and the channel carries on.
    // One channel keeps order: once 'after' is confirmed, the broker holds the stalled 50 as well.
    proxy.release();
    await publisher.publish(makeEnvelopes(5, 'after'));
    expect(await rabbitQueueBacklog({ url, queue, logger })).toBe(60);
  });

  it("retries a tool's call while the broker is away, and answers once it is back", async () => {
    const queue = `brokers-test-${suffix()}`;
    const publisher = await createRabbitPublisher({ url, queue, logger });
    onTestFinished(() => removeRabbitQueues({ url, queues: [queue] }).then(() => {}));
    await publisher.publish(makeEnvelopes(3, 'waiting'));
    await publisher.close();
    const { proxy, url: viaProxy } = await proxied();
    onTestFinished(() => proxy.close());

    proxy.cut();
    const retries: unknown[] = [];
    // The broker comes back when the first retry is announced: no guess of how long a loaded machine takes.
    const announcer = {
      ...logger,
      warn(fields: object) {
        retries.push((fields as { err?: unknown }).err);
        proxy.restore();
      },
    };
    expect(await rabbitQueueBacklog({ url: viaProxy, queue, logger: announcer })).toBe(3);
    expect(retries.length).toBeGreaterThanOrEqual(1);
    // The proxy closes the refused socket at once, as a broker still starting does.
    expect(String((retries[0] as Error).message)).toMatch(/Socket closed abruptly|ECONNRESET/);
  });
});
