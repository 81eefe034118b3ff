/**
 * The conformance suite every adapter passes. Each test gets a fresh destination (topic + consumer group, or
 * queue); where the brokers truly differ the suite reads `features` and asserts each one's own behaviour.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, onTestFinished } from 'vitest';
import type {
  BatchHandler,
  BrokerFeatures,
  Delivery,
  Envelope,
  Publisher,
  Subscriber,
} from '../src/index.ts';
import { BrokerUnavailableError } from '../src/index.ts';

export interface PublisherUnderTest {
  publisher: Publisher;
  /** Broker requests the publisher sent so far, where the adapter coalesces publish calls into requests. */
  requests?: () => number;
}

/**
 * One topic and consumer group (Kafka), one queue (RabbitMQ): every subscriber made here shares it. Subscribers
 * should retry a rejected batch after ~10 ms, so that runs of rejections stay quick.
 */
export interface Destination {
  publisher(): Promise<PublisherUnderTest>;
  subscriber(options: { maxBatch: number }): Promise<Subscriber>;
  /** The backlog as a tool sees it without subscribing (kafkaGroupBacklog, rabbitQueueBacklog), if there is one. */
  backlogFromOutside?(): Promise<number>;
  /** Deletes what open() created. Publishers and subscribers are closed before. */
  dispose(): Promise<void>;
}

export interface AdapterUnderTest {
  features: BrokerFeatures;
  open(): Promise<Destination>;
}

export function brokerConformance(adapter: AdapterUnderTest): void {
  const { features } = adapter;

  describe(`${features.name} adapter conformance`, () => {
    it('delivers every envelope with its id and payload intact', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(100, 'intact');
      sent[0] = { id: sent[0]?.id ?? 'x', payload: Buffer.alloc(0) };
      sent[1] = { id: sent[1]?.id ?? 'y', payload: randomBytes(4096) };
      const sub = await subscriber({ maxBatch: 30 });
      const seen = collect();
      await sub.start(seen.handler);
      const { publisher: pub } = await publisher();
      await Promise.all([0, 25, 50, 75].map((start) => pub.publish(sent.slice(start, start + 25))));

      await waitFor(() => seen.distinct.size === sent.length, 'all 100 delivered');
      for (const envelope of sent) {
        expect(seen.payloads.get(envelope.id), envelope.id).toEqual(envelope.payload);
      }
      expect(seen.batchSizes.every((size) => size <= 30)).toBe(true);
    });

    it('resolves publish only once stored: a subscriber started afterwards receives everything', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(200, 'durable');
      const { publisher: pub } = await publisher();
      await pub.publish(sent);
      // Nothing is left on the client: the broker counts all of them the moment publish resolved.
      const sub = await subscriber({ maxBatch: 50 });
      expect(await sub.backlog()).toBe(sent.length);

      const seen = collect();
      await sub.start(seen.handler);
      await waitFor(() => seen.distinct.size === sent.length, 'all 200 delivered');
      expect([...seen.distinct].sort()).toEqual(ids(sent).sort());
    });

    it('delivers 2,000 envelopes from 200 concurrent publish calls exactly once', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(2000, 'concurrent');
      const sub = await subscriber({ maxBatch: 200 });
      const seen = collect();
      await sub.start(seen.handler);
      const { publisher: pub, requests } = await publisher();
      await Promise.all(
        Array.from({ length: 200 }, (_, call) => pub.publish(sent.slice(call * 10, call * 10 + 10))),
      );

      await waitFor(() => seen.distinct.size === sent.length, 'all 2,000 delivered');
      await sleep(300); // a duplicate would show up here
      expect(seen.all.length).toBe(sent.length);
      expect([...seen.distinct].sort()).toEqual(ids(sent).sort());
      if (requests) {
        // Coalescing: concurrent calls share broker requests.
        console.info(`${features.name}: 200 publish calls went out in ${requests()} broker requests`);
        expect(requests()).toBeGreaterThan(0);
        expect(requests()).toBeLessThan(200);
      }
    });

    it('delivers a rejected batch again and loses nothing', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(300, 'reject');
      const { publisher: pub } = await publisher();
      await pub.publish(sent);

      const rejected: string[] = [];
      const handled: Delivery[] = [];
      let calls = 0;
      const sub = await subscriber({ maxBatch: 50 });
      await sub.start(async (batch) => {
        calls += 1;
        if (calls === 1) {
          rejected.push(...batch.map((d) => d.id ?? ''));
          throw new Error('the store is down (on purpose)');
        }
        handled.push(...batch);
      });

      await waitFor(() => new Set(handled.map((d) => d.id)).size === sent.length, 'all 300 handled');
      expect(rejected.length).toBeGreaterThan(0);
      const handledIds = new Set(handled.map((d) => d.id));
      for (const id of rejected) expect(handledIds.has(id), `${id} came back`).toBe(true);

      if (features.redelivery === 'from-committed-offset') {
        // The partition is read again from the committed offset: in each stream, what was handled is exactly
        // the publish order — the rejected batch came back before anything after it.
        expectPublishOrderPerStream(handled, sent);
      }
      // requeue-unacked: the requeued deliveries may come after others; only "nothing lost" is promised.
    });

    it('keeps consuming through a run of rejections (7 in a row)', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(100, 'persist');
      const { publisher: pub } = await publisher();
      await pub.publish(sent);
      let rejections = 0;
      const seen = collect();
      const sub = await subscriber({ maxBatch: 50 });
      await sub.start(async (batch) => {
        if (rejections < 7) {
          rejections += 1;
          throw new TypeError('not a retriable kind of error, on purpose');
        }
        await seen.handler(batch);
      });
      await waitFor(() => seen.distinct.size === sent.length, 'all 100 handled after the rejections');
      expect(rejections).toBe(7);
      expect(sub.isReady()).toBe(true);
    });

    it('closes promptly while the handler keeps rejecting, and loses nothing', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(50, 'failing');
      const { publisher: pub } = await publisher();
      await pub.publish(sent);
      let calls = 0;
      const a = await subscriber({ maxBatch: 20 });
      await a.start(async () => {
        calls += 1;
        throw new Error('the store is down (on purpose)');
      });
      await waitFor(() => calls >= 3, 'three rejections');
      const closing = performance.now();
      await a.close();
      expect(performance.now() - closing).toBeLessThan(3000);

      const seen = collect();
      const b = await subscriber({ maxBatch: 50 });
      await b.start(seen.handler);
      await waitFor(() => seen.distinct.size === sent.length, 'all 50 delivered to the next subscriber');
    });

    it('after a subscriber closes mid-stream, a new one gets everything not acknowledged, and nothing that was', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(600, 'handover');
      const { publisher: pub } = await publisher();
      await pub.publish(sent);

      const first = new Set<string | undefined>();
      const a = await subscriber({ maxBatch: 20 });
      await a.start(async (batch) => {
        await sleep(10);
        for (const d of batch) first.add(d.id);
      });
      await waitFor(() => first.size >= 100, 'the first subscriber handled 100');
      await a.close();
      expect(a.isReady()).toBe(false);
      const handledByFirst = new Set(first);
      expect(handledByFirst.size).toBeLessThan(sent.length);

      const second = collect();
      const b = await subscriber({ maxBatch: 100 });
      await b.start(second.handler);
      await waitFor(
        () => ids(sent).every((id) => handledByFirst.has(id) || second.distinct.has(id)),
        'the union covers everything published',
      );
      // close() let the batch in flight finish and acknowledged it: none of it is delivered again.
      expect([...second.distinct].filter((id) => handledByFirst.has(id ?? ''))).toEqual([]);
      expect(first.size).toBe(handledByFirst.size);
    });

    it('reports the backlog: published and not yet consumed', async () => {
      const { publisher, subscriber, destination } = await setup(adapter);
      const outside = async () => (destination.backlogFromOutside ? destination.backlogFromOutside() : 0);
      const sent = makeEnvelopes(50, 'backlog');
      const sub = await subscriber({ maxBatch: 20 });
      expect(await sub.backlog()).toBe(0);
      const { publisher: pub } = await publisher();
      await pub.publish(sent);
      expect(await sub.backlog()).toBe(50);
      if (destination.backlogFromOutside) expect(await outside()).toBe(50);

      const seen = collect();
      await sub.start(seen.handler);
      await waitFor(() => seen.distinct.size === 50, 'all 50 delivered');
      await waitForAsync(async () => (await sub.backlog()) === 0, 'the backlog drops to 0');
      expect(await outside()).toBe(0);
    });

    it(`keeps publish order ${features.ordering}`, async () => {
      const { publisher, subscriber } = await setup(adapter);
      const sent = makeEnvelopes(300, 'order');
      const { publisher: pub } = await publisher();
      for (let start = 0; start < sent.length; start += 30) await pub.publish(sent.slice(start, start + 30));
      const seen = collect();
      const sub = await subscriber({ maxBatch: 25 });
      await sub.start(seen.handler);
      await waitFor(() => seen.distinct.size === sent.length, 'all 300 delivered');

      const streams = expectPublishOrderPerStream(seen.all, sent);
      if (features.ordering === 'per-queue') {
        // One queue, one consumer: a single stream, in publish order overall.
        expect(streams).toBe(1);
      } else {
        // Keys (ids) spread over the topic's partitions: several streams, each in order, not one global order.
        expect(streams).toBeGreaterThan(1);
      }
    });

    it('reports readiness, and rejects a publish after close', async () => {
      const { publisher, subscriber } = await setup(adapter);
      const { publisher: pub } = await publisher();
      expect(pub.isReady()).toBe(true);
      const sub = await subscriber({ maxBatch: 10 });
      expect(sub.isReady()).toBe(false);
      await sub.start(async () => {});
      expect(sub.isReady()).toBe(true);
      await sub.close();
      expect(sub.isReady()).toBe(false);
      await pub.close();
      expect(pub.isReady()).toBe(false);
      await expect(pub.publish(makeEnvelopes(1, 'late'))).rejects.toBeInstanceOf(BrokerUnavailableError);
    });
  });
}

/** Opens a destination for one test; everything made through it is closed and deleted when the test ends. */
async function setup(adapter: AdapterUnderTest) {
  const destination = await adapter.open();
  const opened: { close(): Promise<void> }[] = [];
  onTestFinished(async () => {
    for (const client of opened.reverse()) await client.close().catch(() => {});
    await destination.dispose();
  });
  return {
    destination,
    async publisher() {
      const made = await destination.publisher();
      opened.push(made.publisher);
      return made;
    },
    async subscriber(options: { maxBatch: number }) {
      const made = await destination.subscriber(options);
      opened.push(made);
      return made;
    },
  };
}

export function makeEnvelopes(count: number, label: string): Envelope[] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${run}-${String(index).padStart(5, '0')}`,
    payload: Buffer.from(JSON.stringify({ index, description: 'Está lloviendo ☔', country: 'GT' })),
  }));
}

const ids = (envelopes: readonly Envelope[]) => envelopes.map((envelope) => envelope.id);

export function collect() {
  const all: Delivery[] = [];
  const distinct = new Set<string | undefined>();
  const payloads = new Map<string | undefined, Buffer>();
  const batchSizes: number[] = [];
  const handler: BatchHandler = async (batch) => {
    batchSizes.push(batch.length);
    for (const delivery of batch) {
      all.push(delivery);
      distinct.add(delivery.id);
      payloads.set(delivery.id, delivery.payload);
    }
  };
  return { all, distinct, payloads, batchSizes, handler };
}

/** Checks that within each stream the deliveries follow publish order, with no repeat; returns how many streams. */
function expectPublishOrderPerStream(delivered: readonly Delivery[], sent: readonly Envelope[]) {
  const position = new Map(sent.map((envelope, index) => [envelope.id, index]));
  const perStream = new Map<string, number[]>();
  for (const delivery of delivered) {
    const stream = delivery.stream ?? '(none)';
    const list = perStream.get(stream) ?? [];
    list.push(position.get(delivery.id ?? '') ?? -1);
    perStream.set(stream, list);
  }
  for (const [stream, positions] of perStream) {
    expect(positions, `order in ${stream}`).toEqual([...positions].sort((x, y) => x - y));
    expect(new Set(positions).size, `no repeats in ${stream}`).toBe(positions.length);
  }
  return perStream.size;
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  await waitForAsync(async () => condition(), what, timeoutMs);
}

export async function waitForAsync(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}
