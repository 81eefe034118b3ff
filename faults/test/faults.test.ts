/**
 * The fault suite: a steady load from clients that retry with the same id until they get a 202, and during it,
 * one at a time and repeated, every fault of `allFaults` — kill -9 of each service (restarted by a supervisor), a
 * restart of each server, a broker down for 10 s, a store refusing writes (OOM) for 10 s. After each one, once the system recovered by itself: every id
 * that got a 202 is counted exactly once in each store, and nothing else is counted.
 *
 * FAULTS_REPS (default 3) sets the repetitions; FAULTS_ONLY (a comma-separated list of substrings of fault names)
 * picks some faults, e.g. `FAULTS_ONLY=kafka FAULTS_REPS=1`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchSystem, type ServiceName, type System, serviceNames } from '@tandem/system';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { allFaults } from '../src/faults.ts';
import { Load, type PhaseStats } from '../src/load.ts';
import { faultsStack } from '../src/stack.ts';
import { checkPhase, openStores, type StoreView } from '../src/stores.ts';
import { type Repetition, summarise } from '../src/table.ts';

const stack = faultsStack();
const repetitions = Number(process.env.FAULTS_REPS ?? 3);
const only = process.env.FAULTS_ONLY?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const faults = only ? allFaults.filter((f) => only.some((o) => f.name.includes(o))) : allFaults;
const results: Repetition[] = [];
const suiteStarted = Date.now();

let system: System;
let stores: [StoreView, StoreView];
let load: Load;

/** Phase countries: letters only (the contract's rule), one per repetition. */
const letters = (n: number): string =>
  (n < 26 ? '' : letters(Math.floor(n / 26) - 1)) + String.fromCharCode(65 + (n % 26));

async function allHealthy(timeoutMs = 90_000): Promise<void> {
  await Promise.all(serviceNames.map((name) => system.waitHealthy(name, timeoutMs)));
}

/** Until the edge accepted again after `restoredAt` and both stores hold every id accepted 1 s before now. */
async function waitRecovered(phase: PhaseStats, restoredAt: number, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const now = Date.now();
    const acceptedAgain = (phase.acceptedAt.at(-1) ?? 0) > restoredAt;
    if (acceptedAgain) {
      const target = load.acceptedBy(now - 1000);
      const counts = await Promise.all(stores.map((s) => s.countryCount(phase.country).catch(() => -1)));
      if (counts.every((count) => count >= target)) return now;
    }
    await sleep(200);
  }
  return Number.NaN;
}

async function waitCounted(country: string, expected: number, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(stores.map((s) => s.countryCount(country).catch(() => -1)));
    if (counts.every((count) => count >= expected)) break;
    await sleep(200);
  }
  await sleep(500); // anything counted late (twice) shows up now
}

/** The longest stretch without a 202 between `from` and `to`: its length (s), and when it began and ended. */
function longestGap(
  times: readonly number[],
  from: number,
  to: number,
): { s: number; from: number; to: number } {
  let gap = { s: 0, from, to: from };
  let previous = from;
  for (const time of [...times, to]) {
    if (time - previous > gap.s * 1000) gap = { s: (time - previous) / 1000, from: previous, to: time };
    previous = Math.max(previous, time);
  }
  return gap;
}

function exitsBesides(killed: ServiceName | undefined, before: Record<string, number>): number {
  return serviceNames.reduce(
    (total, name) => total + system.restarts(name) - (before[name] ?? 0) - (name === killed ? 1 : 0),
    0,
  );
}

beforeAll(async () => {
  system = await launchSystem({
    stack: stack.env(),
    portBase: 28_080,
    run: 'faults',
    db: 1,
    supervise: true,
    env: { LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? 'warn' },
    ...(process.env.FAULTS_LOG_DIR ? { logDir: process.env.FAULTS_LOG_DIR } : {}),
  });
  await system.startAll();
  stores = await openStores(system.env);
  load = new Load({
    edgeUrl: system.edgeUrl,
    idPrefix: `f${Date.now().toString(36)}`,
    clients: Number(process.env.FAULTS_CLIENTS ?? 8),
    pauseMs: Number(process.env.FAULTS_PAUSE_MS ?? 25),
  });
});

afterAll(async () => {
  await load?.stop().catch(() => {});
  await system?.stopAll();
  await Promise.all((stores ?? []).map((s) => s.close()));
  if (results.length === 0) return;
  const minutes = ((Date.now() - suiteStarted) / 60_000).toFixed(1);
  // The services inherit the suite's environment: KAFKA_CLIENT picks their Kafka client, as in `npm start`.
  const client = `KAFKA_CLIENT=${process.env.KAFKA_CLIENT || 'unset (the default client)'}`;
  const table = `${summarise(results)}\n\n${results.length} faults in ${minutes} min, ${client}`;
  console.log(`\n${table}\n`);
  writeFileSync(join(stack.location.dir, 'fault-table.md'), `${table}\n`);
});

describe('faults under load: nothing accepted is lost or counted twice', () => {
  let phaseNumber = 0;
  const rounds = Array.from({ length: repetitions }, (_, round) => round + 1);
  // Round after round, every fault once per round: a service is not killed twice within the supervisor's
  // 30 s "stable" window, and each round sees every fault.
  describe.each(rounds)('round %i', (round) => {
    it.each(faults.map((fault) => [fault.name, fault] as const))(
      '%s',
      async (_name, fault) => {
        onTestFailed(() => {
          for (const name of serviceNames)
            console.log(`--- ${name}\n${system.logs(name).slice(-40).join('\n')}`);
        });
        await allHealthy();
        const country = `FAULT ${letters(phaseNumber++)}`;
        const restartsBefore = Object.fromEntries(serviceNames.map((n) => [n, system.restarts(n)]));
        const phase = load.start(`${fault.name} #${round}`, country);
        const startedAt = Date.now();
        let faultAt: number;
        let restoredAt: number;
        let recoveredAt: number;
        try {
          await sleep(1500);
          faultAt = Date.now();
          await fault.inject({ system, stack });
          restoredAt = Date.now();
          recoveredAt = await waitRecovered(phase, restoredAt);
          await sleep(500);
        } finally {
          await load.stop();
        }
        const stats = phase;
        const stoppedAt = Date.now();
        const gap = longestGap(stats.acceptedAt, startedAt, stoppedAt);
        await waitCounted(country, stats.ids.length);
        const checks = await Promise.all(stores.map((store) => checkPhase(store, country, stats.ids)));
        const retried = Object.entries(stats.statuses)
          .filter(([status]) => status !== '202')
          .reduce((total, [, n]) => total + n, 0);
        const repetition: Repetition = {
          fault: fault.name,
          accepted: stats.ids.length,
          lost: Math.max(...checks.map((c) => c.lost)),
          doubleCounted: Math.max(...checks.map((c) => c.doubleCounted)),
          retried,
          faultS: (restoredAt - faultAt) / 1000,
          longestGapS: gap.s,
          recoverS: (recoveredAt - faultAt) / 1000,
          selfExits: exitsBesides(fault.killed, restartsBefore),
        };
        results.push(repetition);
        console.log(
          `${fault.name} #${round}: ${JSON.stringify(repetition)} statuses ${JSON.stringify(stats.statuses)} ` +
            // Absolute times, to be read beside a server's own log (when it stopped and served again).
            `fault ${new Date(faultAt).toISOString()}–${new Date(restoredAt).toISOString()}, ` +
            `longest gap ${new Date(gap.from).toISOString()}–${new Date(gap.to).toISOString()}`,
        );
        expect(stats.abandoned).toEqual([]);
        expect(checks).toEqual(checks.map((c) => ({ ...c, lost: 0, doubleCounted: 0 })));
        expect(Number.isFinite(repetition.recoverS), 'recovered within 120 s').toBe(true);
      },
      300_000,
    );
  });

  it('counted nothing but the accepted ids, in either store', async () => {
    await allHealthy();
    for (const store of stores) {
      const [seen, total] = await Promise.all([store.allSeen(), store.total()]);
      const extra = [...seen].filter((id) => !load.accepted.has(id));
      expect({ store: store.name, extra: extra.slice(0, 10), total }).toEqual({
        store: store.name,
        extra: [],
        total: load.accepted.size,
      });
      expect(seen.size).toBe(load.accepted.size);
    }
  }, 120_000);
});
