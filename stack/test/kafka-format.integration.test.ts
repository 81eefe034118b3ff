/**
 * A fresh Kafka whose generated cluster id starts with '-' (one base64url id in 64): Kafka's storage tool must
 * still take it as the id, not as an option. It failed a fresh CI stack once.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    await stack.up(['kafka']);
    expect(readFileSync(join(dir, 'kafka', 'data', 'meta.properties'), 'utf8')).toContain(
      'cluster.id=-AdTBdsvJM4ba5kkh0XYFw',
    );
    expect(stack.pids().kafka).toBeDefined();
  }, 180_000);
});
