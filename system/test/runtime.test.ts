/**
 * The services' runtime settings (runtime.ts) reach every process the launcher starts, and Node applies them: the
 * memory budget of docs/memory.md holds only with them.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { localStack } from '@tandem/stack';
import { describe, expect, it } from 'vitest';
import { launchSystem, processEnv } from '../src/launcher.ts';
import { compileCacheDir, nodeOptions, runtimeEnv } from '../src/runtime.ts';

const instance = { name: 'grpc-ingest', env: { PORT: '1' } };
const MiB = 2 ** 20;

describe("the services' runtime settings", () => {
  it('are in the environment of every service process, after what NODE_OPTIONS held, before a profiler', () => {
    const env = processEnv({ KAFKA_TOPIC: 't' }, instance, '/tmp/profiles', {
      NODE_OPTIONS: '--disable-warning=X',
    });
    expect(env.NODE_OPTIONS).toBe(
      `${nodeOptions.join(' ')} --disable-warning=X --cpu-prof --cpu-prof-dir="/tmp/profiles/grpc-ingest"`,
    );
    expect(env).toMatchObject({
      ...runtimeEnv,
      NODE_COMPILE_CACHE: compileCacheDir,
      KAFKA_TOPIC: 't',
      PORT: '1',
    });
  });

  it('are not repeated when NODE_OPTIONS holds one already (the bootstrap sets the warning switch)', () => {
    const warning = '--disable-warning=TimeoutNegativeWarning';
    expect(nodeOptions).toContain(warning);
    const env = processEnv({}, instance, undefined, { NODE_OPTIONS: `${warning}  --enable-source-maps` });
    expect(env.NODE_OPTIONS).toBe(
      `${nodeOptions.filter((option) => option !== warning).join(' ')} ${warning} --enable-source-maps`,
    );
  });

  it('yield to a value set in the environment or in the launch options', () => {
    const parent = { MALLOC_ARENA_MAX: '8', NODE_OPTIONS: '--max-old-space-size=512' };
    const env = processEnv({ NODE_COMPILE_CACHE: '/elsewhere' }, instance, undefined, parent);
    expect(env.MALLOC_ARENA_MAX).toBe('8');
    expect(env.NODE_COMPILE_CACHE).toBe('/elsewhere');
    // Node takes the last of a repeated option.
    expect(env.NODE_OPTIONS?.endsWith('--max-old-space-size=512')).toBe(true);
  });

  it("bound V8's heap in a Node process: an 8 MiB young generation, 128 MiB of old space", () => {
    const child = spawnSync(
      process.execPath,
      ['-p', 'JSON.stringify(require("node:v8").getHeapStatistics())'],
      { env: processEnv({}, instance, undefined, {}) as NodeJS.ProcessEnv, encoding: 'utf8' },
    );
    expect(child.status, child.stderr).toBe(0);
    const limit = JSON.parse(child.stdout).heap_size_limit / MiB;
    // Old space plus the young generation (V8 counts three semi-spaces); Node's default here is several GiB.
    expect(limit).toBeGreaterThanOrEqual(128);
    expect(limit).toBeLessThanOrEqual(128 + 3 * 4);
  });

  it('are what a launched service runs with', { timeout: 90_000 }, async () => {
    const system = await launchSystem({ stack: localStack().env(), portBase: 18_780, run: 'runtime' });
    try {
      await system.start('grpc-ingest');
      const pid = system.pid('grpc-ingest') as number;
      const environ = Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      );
      for (const option of nodeOptions) expect(environ.NODE_OPTIONS).toContain(option);
      expect(environ).toMatchObject({ ...runtimeEnv, NODE_COMPILE_CACHE: compileCacheDir });
      // And V8 applied them: the young generation's two semi-spaces stay at 4 MiB each (without, 32–64 MiB).
      const metrics = await (await fetch(`${system.metricsUrl('grpc-ingest')}/metrics`)).text();
      const young = Number(metrics.match(/nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/)?.[1]);
      expect(young / MiB).toBeGreaterThan(0);
      expect(young / MiB).toBeLessThanOrEqual(8);
    } finally {
      await system.stopAll(10_000);
    }
  });
});
