// Sending through the edge as a client should: a 503 or 429 (a broker or the ingest busy for a moment) is retried
// with the same id after a pause, which is safe (counting is idempotent by id); anything else but 202 fails.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Message {
  id?: string;
  description: string;
  country: string;
  weather: string;
}

/** POSTs `body` (a message, or an array for /input/batch) until it is accepted; every message gets an id first. */
export async function postAccepted(
  edgeUrl: string,
  path: '/input' | '/input/batch',
  body: Message | Message[],
) {
  const withIds = Array.isArray(body)
    ? body.map((m) => ({ id: randomUUID(), ...m }))
    : { id: randomUUID(), ...body };
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${edgeUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(withIds),
    });
    const text = await response.text();
    if (response.status === 202) return;
    if (![429, 503].includes(response.status) || attempt === 20) {
      throw new Error(`${path} answered ${response.status} (attempt ${attempt}): ${text}`);
    }
    await sleep(250);
  }
}
