import type { Delivery } from '@tandem/brokers';
import { MemoryCountingStore } from '@tandem/counting';
import { encodeMessage, type WeatherMessage } from '@tandem/message';
import { describe, expect, it } from 'vitest';
import { createCountingHandler } from '../src/handler.ts';
import { createLatencyRecorder } from '../src/latency.ts';

const message = (id: string, country = 'GT', weather = 'Rainy'): WeatherMessage => ({
  id,
  description: 'Está lloviendo',
  country,
  weather,
  acceptedAt: 1_000,
});
const delivery = (m: WeatherMessage): Delivery => ({ id: m.id, payload: encodeMessage(m) });

describe('createCountingHandler', () => {
  it('counts each id once across batches and redeliveries', async () => {
    const store = new MemoryCountingStore();
    const handle = createCountingHandler(store, { pipeline: 'test', now: () => 2_000 });
    await handle([delivery(message('a')), delivery(message('b', 'SV', 'Sunny')), delivery(message('a'))]);
    await handle([delivery(message('b', 'SV', 'Sunny')), delivery(message('c'))]);
    expect(await store.counts()).toEqual({
      total: 3,
      byCountry: { GT: 2, SV: 1 },
      byWeather: { Rainy: 2, Sunny: 1 },
      byCountryWeather: { 'GT:Rainy': 2, 'SV:Sunny': 1 },
    });
  });

  it('reports a poison delivery, counts the rest, and does not block the batch', async () => {
    const store = new MemoryCountingStore();
    const poisoned: string[] = [];
    const handle = createCountingHandler(store, {
      pipeline: 'test',
      onPoison: (_, reason) => {
        poisoned.push(reason);
      },
    });
    await handle([
      { id: 'x', payload: Buffer.from('not json') },
      delivery(message('ok')),
      { id: 'y', payload: Buffer.from('{"id":"y"}') },
    ]);
    expect(poisoned).toEqual(['not JSON', 'description is not a non-empty string']);
    expect((await store.counts()).total).toBe(1);
  });

  it("takes a record the store would refuse (a ':' in the country) as poison, not as a failed batch", async () => {
    const store = new MemoryCountingStore();
    const poisoned: string[] = [];
    const handle = createCountingHandler(store, {
      pipeline: 'test',
      onPoison: (_, reason) => {
        poisoned.push(reason);
      },
    });
    await handle([delivery(message('bad', 'GT:SV')), delivery(message('ok'))]);
    expect(poisoned).toEqual(["country contains ':'"]);
    expect((await store.counts()).total).toBe(1);
  });

  it('rejects (so the batch comes again) when a poison delivery cannot be dead-lettered', async () => {
    const store = new MemoryCountingStore();
    const handle = createCountingHandler(store, {
      pipeline: 'test',
      onPoison: async () => {
        throw new Error('dead-letter queue unavailable');
      },
    });
    await expect(
      handle([{ id: 'x', payload: Buffer.from('not json') }, delivery(message('a'))]),
    ).rejects.toThrow('dead-letter queue unavailable');
  });

  it('rejects (so the broker redelivers) when the store cannot apply the batch', async () => {
    const store = new MemoryCountingStore();
    await store.close();
    const handle = createCountingHandler(store, { pipeline: 'test' });
    await expect(handle([delivery(message('a'))])).rejects.toThrow();
  });

  it('records the latency of every decoded message once the batch is counted, and nothing for a failed batch', async () => {
    const latency = createLatencyRecorder('test');
    const failing = new MemoryCountingStore();
    await failing.close();
    const batch = [
      delivery({ ...message('a'), acceptedAt: 1_000 }),
      { id: 'x', payload: Buffer.from('poison') },
      delivery({ ...message('b'), acceptedAt: 1_200 }),
    ];
    await expect(createCountingHandler(failing, { pipeline: 'test', latency })(batch)).rejects.toThrow();
    expect(latency.snapshot().count).toBe(0);
    await createCountingHandler(new MemoryCountingStore(), { pipeline: 'test', latency, now: () => 1_250 })(
      batch,
    );
    expect(latency.snapshot()).toMatchObject({ count: 2, min: 50, max: 250 });
  });
});
