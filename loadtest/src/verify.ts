/**
 * "Every accepted message was counted, exactly once, in both stores": what a k6 run says it got accepted, against
 * what the stores recorded, once both consumers caught up.
 *
 * A message answered 202 must be counted exactly once. A message that never got a 202 but may have been published
 * (a 503, a timeout: the edge cannot know either) is counted once or not at all: it widens the allowed range.
 * Client ids are checked one by one by their run prefix (`seen:<runId>-*`), which no other traffic can disturb;
 * the totals also include messages without a client id, and any other traffic that reached the same stores.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { K6Summary } from './k6.ts';
import { type Backlogs, type StoreName, type Stores, storeNames } from './stores.ts';

export interface Expected {
  /** Distinct client ids answered 202. */
  ids: number;
  /** Client ids never answered 202 that may have been published. */
  idsUnresolved: number;
  /** Messages without a client id answered 202, and those that may have been published. */
  anonymous: number;
  anonymousUnresolved: number;
}

export function expectedFrom(summary: K6Summary): Expected {
  const t = summary.tandem;
  return {
    ids: t.idsAccepted,
    idsUnresolved: t.idsUnresolved,
    anonymous: t.anonymousAccepted,
    anonymousUnresolved: t.anonymousUnresolved,
  };
}

export interface Observed {
  /** This run's ids recorded in each store. */
  seen: Record<StoreName, number>;
  /** How much each store's total grew during the run. */
  delta: Record<StoreName, number>;
}

export interface Verdict {
  ok: boolean;
  /** True when nothing was unresolved, so the check is exact rather than a range. */
  exact: boolean;
  lines: string[];
  warnings: string[];
}

const label: Record<StoreName, string> = { redis: 'Kafka → Redis', valkey: 'RabbitMQ → Valkey' };

export function judge(expected: Expected, observed: Observed): Verdict {
  const lines: string[] = [];
  const warnings: string[] = [];
  let ok = true;
  const exact = expected.idsUnresolved === 0 && expected.anonymousUnresolved === 0;
  const range = (min: number, extra: number) => (extra === 0 ? `${min}` : `${min}..${min + extra}`);
  for (const store of storeNames) {
    const seen = observed.seen[store];
    const delta = observed.delta[store];
    const idsOk = seen >= expected.ids && seen <= expected.ids + expected.idsUnresolved;
    const min = expected.ids + expected.anonymous;
    const max = min + expected.idsUnresolved + expected.anonymousUnresolved;
    let problem = '';
    if (seen < expected.ids) problem = `${expected.ids - seen} accepted ids were never counted`;
    else if (!idsOk) problem = `${seen - expected.ids - expected.idsUnresolved} more ids than were ever sent`;
    else if (delta < min) problem = `the total grew by ${delta}, less than the ${min} accepted messages`;
    if (problem) ok = false;
    else if (delta > max) {
      warnings.push(
        `${label[store]}: the total grew by ${delta - max} more than this run sent: other traffic reached the store meanwhile (this run's ids are all there exactly once)`,
      );
    }
    lines.push(
      `${label[store].padEnd(18)} ids ${seen}/${range(expected.ids, expected.idsUnresolved)}, total +${delta} (expected ${range(min, max - min)})  ${problem ? `✗ ${problem}` : '✓'}`,
    );
  }
  if (!exact && ok) {
    warnings.push(
      `${expected.idsUnresolved + expected.anonymousUnresolved} messages got no 202 but may have been published; each was counted at most once`,
    );
  }
  return { ok, exact, lines, warnings };
}

export interface SettleOptions {
  stores: Stores;
  prefix: string;
  expectedIds: number;
  backlogs: () => Promise<Backlogs>;
  timeoutMs: number;
  onWait?: (state: { seen: Record<StoreName, number>; backlogs: Backlogs; elapsedMs: number }) => void;
}

/**
 * Waits until both stores hold at least `expectedIds` of the run's ids and both consumers' backlogs are 0, then
 * once more until nothing changes (late, unresolved messages land too). Resolves with the last reading, settled
 * or not (then `settled` is false).
 */
export async function settle(
  options: SettleOptions,
): Promise<{ settled: boolean; seen: Record<StoreName, number>; elapsedMs: number }> {
  const started = Date.now();
  let previous = '';
  for (;;) {
    const [seen, backlog] = await Promise.all([options.stores.seen(options.prefix), options.backlogs()]);
    const elapsedMs = Date.now() - started;
    const caughtUp =
      storeNames.every((store) => seen[store] >= options.expectedIds) &&
      backlog.kafka === 0 &&
      backlog.rabbitmq === 0;
    const reading = JSON.stringify(seen);
    if (caughtUp && reading === previous) return { settled: true, seen, elapsedMs };
    if (elapsedMs > options.timeoutMs) return { settled: false, seen, elapsedMs };
    options.onWait?.({ seen, backlogs: backlog, elapsedMs });
    previous = caughtUp ? reading : '';
    await sleep(caughtUp ? 1000 : 500);
  }
}
