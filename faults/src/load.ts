/**
 * A steady load of messages from careful clients: each client picks its own id for every message and sends it
 * again — the same id — until it gets a 202, with backoff, whatever went wrong (an error status, a refused
 * connection, a timeout). So every message a client sent is eventually accepted, and the stores must count each
 * of them exactly once.
 *
 * Messages are tagged with the current phase's country (letters only, as the contract requires), so that each
 * phase's counts can be read from the stores on their own (`country:counts`).
 */
import { setTimeout as sleep } from 'node:timers/promises';

const weathers: readonly [string, string][] = [
  ['Sunny', 'Sunny'],
  ['Soleado', 'Sunny'],
  ['Cloudy', 'Cloudy'],
  ['nublado', 'Cloudy'],
  ['Rainy', 'Rainy'],
  ['LLUVIOSO', 'Rainy'],
];

export interface Accepted {
  country: string;
  weather: string;
  phase: string;
}

export interface PhaseStats {
  phase: string;
  country: string;
  /** Ids accepted (202), in order. */
  ids: string[];
  /** When each id of `ids` was accepted (Date.now()). */
  acceptedAt: number[];
  /** Requests answered, by status ('error' for no answer: refused, reset, timed out). */
  statuses: Record<string, number>;
  /** Ids sent but not accepted when the load stopped (the client gave up): none, if all went well. */
  abandoned: string[];
}

export interface LoadOptions {
  edgeUrl: string;
  /** Concurrent clients. */
  clients?: number;
  /** Each client's pause between two messages (ms). */
  pauseMs?: number;
  /** A request with no answer after this long is abandoned and sent again (ms). */
  requestTimeoutMs?: number;
  /** Prefix of every id, unique per run. */
  idPrefix: string;
}

interface Item {
  id: string;
  weatherWord: string;
  weather: string;
}

/**
 * Sends until stopped; `phase()` switches the tag of new messages. A message already started keeps its phase, so a
 * phase is over once `stop()` resolved (every client finished the message it had).
 */
export class Load {
  readonly accepted = new Map<string, Accepted>();
  readonly #options: Required<LoadOptions>;
  #phase: PhaseStats | undefined;
  #running = false;
  #clients: Promise<void>[] = [];
  #seq = 0;

  constructor(options: LoadOptions) {
    this.#options = { clients: 8, pauseMs: 25, requestTimeoutMs: 10_000, ...options };
  }

  get phaseStats(): PhaseStats | undefined {
    return this.#phase;
  }

  /** Starts the clients, tagging messages with `country` (letters and spaces only). */
  start(phase: string, country: string): PhaseStats {
    if (this.#running) throw new Error('the load is running already');
    this.#phase = { phase, country, ids: [], acceptedAt: [], statuses: {}, abandoned: [] };
    this.#running = true;
    this.#clients = Array.from({ length: this.#options.clients }, (_, client) => this.#client(client));
    return this.#phase;
  }

  /** Stops sending new messages and waits for each client to get its current message accepted (or give up). */
  async stop(): Promise<PhaseStats> {
    this.#running = false;
    await Promise.all(this.#clients);
    this.#clients = [];
    return this.#phase as PhaseStats;
  }

  /** Ids accepted in the current phase at or before `time`. */
  acceptedBy(time: number): number {
    const times = this.#phase?.acceptedAt ?? [];
    let low = 0;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((times[mid] as number) <= time) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  async #client(client: number): Promise<void> {
    const stats = this.#phase as PhaseStats;
    while (this.#running) {
      const seq = this.#seq++;
      // Mostly single messages (id in the body or in Idempotency-Key), and some batches of 4.
      const size = seq % 10 >= 8 ? 4 : 1;
      const items: Item[] = Array.from({ length: size }, (_, i) => {
        const [weatherWord, weather] = weathers[(seq + i) % weathers.length] as [string, string];
        return { id: `${this.#options.idPrefix}-${client}-${seq}-${i}`, weatherWord, weather };
      });
      const useHeader = size === 1 && seq % 10 >= 6;
      if (!(await this.#sendUntilAccepted(items, stats, useHeader))) {
        stats.abandoned.push(...items.map((item) => item.id));
      }
      await sleep(this.#options.pauseMs);
    }
  }

  /** The same ids again and again until a 202; gives up only 60 s after the load was told to stop. */
  async #sendUntilAccepted(items: Item[], stats: PhaseStats, useHeader: boolean): Promise<boolean> {
    const body = items.map((item) => ({
      id: useHeader ? undefined : item.id,
      description: `fault suite message ${item.id}`,
      country: stats.country.toLowerCase(),
      weather: item.weatherWord,
    }));
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (useHeader) headers['idempotency-key'] = items[0]?.id as string;
    const [path, payload] = items.length === 1 ? ['/input', body[0]] : ['/input/batch', body];
    let backoffMs = 50;
    let stoppedAt: number | undefined;
    for (;;) {
      let status: string;
      try {
        const response = await fetch(`${this.#options.edgeUrl}${path}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(payload),
          signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
        });
        await response.arrayBuffer();
        status = String(response.status);
      } catch {
        status = 'error';
      }
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      if (status === '202') {
        const now = Date.now();
        for (const item of items) {
          this.accepted.set(item.id, { country: stats.country, weather: item.weather, phase: stats.phase });
          stats.ids.push(item.id);
          stats.acceptedAt.push(now);
        }
        return true;
      }
      if (status.startsWith('4') && status !== '429') {
        throw new Error(`the edge refused a valid message with ${status}`);
      }
      if (!this.#running) {
        stoppedAt ??= Date.now();
        if (Date.now() - stoppedAt > 60_000) return false;
      }
      await sleep(backoffMs * (0.5 + Math.random()));
      backoffMs = Math.min(backoffMs * 2, 1000);
    }
  }
}
