/**
 * Gathers items from concurrent callers into batches that go out one at a time. A batch leaves when it holds
 * maxBatch items, or when the oldest waiting item has waited lingerMs (0: the next turn of the event loop). While
 * one batch is out, newer items wait and leave together as soon as it is back, as Kafka's own producer does, so
 * under load each request carries what arrived during the previous one. Each caller's promise settles with the
 * outcome of the batches that carried its items: it resolves when all of them succeeded and rejects with the first
 * failure.
 */
export interface Coalescer<T> {
  add(items: readonly T[]): Promise<void>;
  /** Sends whatever is waiting without lingering, and resolves once nothing is waiting or out. */
  drain(): Promise<void>;
  /** Items waiting or out. */
  readonly size: number;
}

export interface CoalescerOptions<T> {
  maxBatch: number;
  lingerMs: number;
  send(items: T[]): Promise<void>;
}

interface Ticket {
  remaining: number;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

interface Entry<T> {
  item: T;
  ticket: Ticket;
}

export function createCoalescer<T>({ maxBatch, lingerMs, send }: CoalescerOptions<T>): Coalescer<T> {
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`maxBatch must be ≥ 1, got ${maxBatch}`);
  const waiting: Entry<T>[] = [];
  let out = 0;
  let inFlight: Promise<void> | undefined;
  // Invariant: while items wait, either the linger timer runs or `due` is set.
  let due = false;
  let cancelTimer: (() => void) | undefined;

  const startTimer = () => {
    const fire = () => {
      cancelTimer = undefined;
      due = true;
      pump();
    };
    if (lingerMs <= 0) {
      const handle = setImmediate(fire);
      cancelTimer = () => clearImmediate(handle);
    } else {
      const handle = setTimeout(fire, lingerMs);
      cancelTimer = () => clearTimeout(handle);
    }
  };

  const pump = () => {
    if (inFlight || waiting.length === 0 || !(due || waiting.length >= maxBatch)) return;
    const batch = waiting.splice(0, maxBatch);
    if (waiting.length === 0) {
      due = false;
      cancelTimer?.();
      cancelTimer = undefined;
    }
    out = batch.length;
    inFlight = Promise.resolve()
      .then(() => send(batch.map((entry) => entry.item)))
      .then(
        () => {
          for (const { ticket } of batch) {
            ticket.remaining -= 1;
            if (ticket.remaining === 0 && !ticket.settled) {
              ticket.settled = true;
              ticket.resolve();
            }
          }
        },
        (error: unknown) => {
          for (const { ticket } of batch) {
            if (ticket.settled) continue;
            ticket.settled = true;
            ticket.reject(error);
          }
        },
      )
      .finally(() => {
        inFlight = undefined;
        out = 0;
        pump();
      });
  };

  return {
    add(items) {
      if (items.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const ticket: Ticket = { remaining: items.length, settled: false, resolve, reject };
        for (const item of items) waiting.push({ item, ticket });
        if (!due && !cancelTimer) startTimer();
        pump();
      });
    },
    async drain() {
      while (waiting.length > 0 || inFlight) {
        due = true;
        pump();
        await inFlight;
      }
    },
    get size() {
      return waiting.length + out;
    },
  };
}
