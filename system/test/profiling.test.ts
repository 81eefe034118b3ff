import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { profiling } from '../src/launcher.ts';

describe('profiling', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('adds nothing without a directory', () => {
    expect(profiling(undefined, 'edge-api')).toEqual({});
  });

  it("makes a Node process write its CPU profile under <dir>/<process>, keeping the bench's NODE_OPTIONS", () => {
    // A space in the path: NODE_OPTIONS splits on spaces unless the value is quoted.
    const dir = mkdtempSync(join(tmpdir(), 'tandem bench-'));
    vi.stubEnv('NODE_OPTIONS', '--max-old-space-size=256');
    const child = spawnSync(
      process.execPath,
      ['-p', 'require("node:v8").getHeapStatistics().heap_size_limit'],
      { env: { ...process.env, ...profiling(dir, 'edge-api') }, encoding: 'utf8' },
    );
    expect(child.status, child.stderr).toBe(0);
    // The bench's own option still applies (Node's default limit here is several GiB).
    expect(Number(child.stdout) / 2 ** 20).toBeLessThan(512);
    const files = readdirSync(join(dir, 'edge-api'));
    expect(files).toEqual([expect.stringMatching(/\.cpuprofile$/)]);
    const profile = JSON.parse(readFileSync(join(dir, 'edge-api', files[0] as string), 'utf8'));
    expect(profile.samples.length).toBeGreaterThan(0);
  });
});
