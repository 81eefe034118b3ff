/**
 * Whether the store takes writes, as the consumer last found it. A store that refuses them — Redis/Valkey at
 * `maxmemory` under `noeviction` (OOM), or a replica (READONLY) — is up and answering, and will take them again
 * once memory is freed or a primary is back: the consumer holds its batches (nothing acknowledged), waits with a
 * growing back-off, and says so once per streak of refusals, on /metrics and on /ready.
 */
import type { WriteRefusal } from '@tandem/counting';
import { Counter, Gauge } from 'prom-client';

/** Where a streak's start and end are told (pino's logger fits). */
export interface RefusalLog {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

export interface StoreWritesOptions {
  /** Label for metrics: `kafka-redis` or `rabbitmq-valkey`. */
  pipeline: string;
  log?: RefusalLog;
  /** The wait after the first refusal of a streak (ms); it doubles with each refusal in a row. Default 200. */
  initialDelayMs?: number;
  /** The longest wait between two attempts (ms). Default 5000. */
  maxDelayMs?: number;
  now?: () => number;
}

export const storeWritesDefaults = { initialDelayMs: 200, maxDelayMs: 5000 } as const;

const reasons: readonly WriteRefusal[] = ['oom', 'readonly'];

const refusedTotal = new Counter({
  name: 'store_write_refused_total',
  help:
    'Attempts to write a batch that the store refused, by reason: oom (maxmemory under noeviction), readonly ' +
    '(a replica). The batch was held, not acknowledged, and written again later.',
  labelNames: ['pipeline', 'reason'] as const,
});
const refusingWrites = new Gauge({
  name: 'store_refusing_writes',
  help: '1 from the store refusing a write until it takes one again, else 0 (/ready answers 503 meanwhile).',
  labelNames: ['pipeline'] as const,
});

interface Streak {
  reason: WriteRefusal;
  since: number;
  refusals: number;
}

export class StoreWrites {
  readonly pipeline: string;
  readonly #log: RefusalLog | undefined;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #now: () => number;
  #streak: Streak | undefined;

  constructor(options: StoreWritesOptions) {
    this.pipeline = options.pipeline;
    this.#log = options.log;
    this.#initialDelayMs = options.initialDelayMs ?? storeWritesDefaults.initialDelayMs;
    this.#maxDelayMs = options.maxDelayMs ?? storeWritesDefaults.maxDelayMs;
    this.#now = options.now ?? Date.now;
    if (!(this.#initialDelayMs > 0 && this.#maxDelayMs >= this.#initialDelayMs)) {
      throw new RangeError(
        `need 0 < initialDelayMs ≤ maxDelayMs, got ${this.#initialDelayMs} and ${this.#maxDelayMs}`,
      );
    }
    // Every series from the start, at zero: a rate or an alert needs no first refusal to exist.
    refusingWrites.set({ pipeline: this.pipeline }, 0);
    for (const reason of reasons) refusedTotal.inc({ pipeline: this.pipeline, reason }, 0);
  }

  /** Why the store refuses writes, while it does (from its last refusal until it takes a write). */
  get refusing(): WriteRefusal | undefined {
    return this.#streak?.reason;
  }

  /**
   * Records one refused attempt and returns how long to wait before the next: `initialDelayMs`, doubling with
   * each refusal of the streak (whichever batch it was), up to `maxDelayMs`. Logs a warning when a streak starts
   * or its reason changes, not for every attempt.
   */
  refused(reason: WriteRefusal, error: unknown): number {
    const { pipeline } = this;
    refusedTotal.inc({ pipeline, reason });
    const streak = this.#streak;
    if (!streak || streak.reason !== reason) {
      // Only the server's reply: the error's `cause` (the client's reply error) carries the command's arguments.
      const reply = error instanceof Error ? error.message : String(error);
      this.#log?.warn(
        { pipeline, reason, reply },
        streak
          ? 'the store refuses writes for another reason'
          : 'the store refuses writes: holding the batches unacknowledged, retrying with back-off',
      );
    }
    if (streak) streak.reason = reason;
    else this.#streak = { reason, since: this.#now(), refusals: 0 };
    refusingWrites.set({ pipeline }, 1);
    const current = this.#streak as Streak;
    current.refusals += 1;
    return Math.min(this.#initialDelayMs * 2 ** (current.refusals - 1), this.#maxDelayMs);
  }

  /** The store wrote a batch: ends a streak of refusals, if there was one. */
  accepted(): void {
    const streak = this.#streak;
    if (!streak) return;
    this.#streak = undefined;
    refusingWrites.set({ pipeline: this.pipeline }, 0);
    this.#log?.info(
      {
        pipeline: this.pipeline,
        reason: streak.reason,
        refusals: streak.refusals,
        refusedForMs: this.#now() - streak.since,
      },
      'the store takes writes again',
    );
  }
}
