/**
 * A fresh Kafka whose generated cluster id starts with '-' (one base64url id in 64): Kafka's storage tool must
 * still take it as the id, not as an option. It failed a fresh CI stack once. And the storage tool, which takes
 * the SCRAM password as an argument, must never show it on a command line.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localStack } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'tandem-kafka-format-'));
// Ports +3000, away from the main stack and the fault suite's (+1000).
const stack = localStack({ dir, portOffset: 3000 });

afterAll(async () => {
  await stack.down(['kafka']);
  rmSync(dir, { recursive: true, force: true });
});

describe('a fresh Kafka', () => {
  it("formats its storage with a cluster id that starts with '-'", async () => {
    mkdirSync(join(dir, 'kafka'), { recursive: true });
    writeFileSync(join(dir, 'kafka', 'cluster-id'), '-AdTBdsvJM4ba5kkh0XYFw');
    // Every command line on the machine, read while the stack comes up.
    const seen = new Set<string>();
    const watcher = setInterval(() => {
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
          seen.add(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '));
        } catch {
          // gone meanwhile
        }
      }
    }, 5);
    try {
      await stack.up(['kafka']);
    } finally {
      clearInterval(watcher);
    }
    const { kafkaPassword } = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as {
      kafkaPassword: string;
    };
    const format = [...seen].filter((line) => line.includes('format.args'));
    // The storage tool ran and was seen, its arguments in a file that is gone now; no command line held the password.
    expect(format.length).toBeGreaterThan(0);
    expect([...seen].filter((line) => line.includes(kafkaPassword))).toEqual([]);
    expect(readdirSync(join(dir, 'kafka'))).not.toContain('format.args');
    expect(readFileSync(join(dir, 'kafka', 'data', 'meta.properties'), 'utf8')).toContain(
      'cluster.id=-AdTBdsvJM4ba5kkh0XYFw',
    );
    expect(stack.pids().kafka).toBeDefined();
  }, 180_000);
});
