import { existsSync, readFileSync } from 'node:fs';
import { nodeOptions, runtimeEnv } from '@tandem/system';
import { describe, expect, it } from 'vitest';
import { rendered } from '../src/combinations.ts';
import { inImage, readImage } from '../src/dockerfile.ts';
import { serviceContainers } from '../src/env.ts';
import { fromRoot } from '../src/paths.ts';
import { serviceNames } from '../src/services.ts';
import { workspaceClosure } from '../src/workspaces.ts';

const image = readImage();
const nvmrc = readFileSync(fromRoot('.nvmrc'), 'utf8').trim().replace(/^v/, '');

describe('Dockerfile', () => {
  it('builds on the Node version of .nvmrc, with pinned base images', () => {
    expect(image.args.NODE_VERSION).toBe(nvmrc);
    for (const stage of image.stages) {
      expect(stage.from).toMatch(/^[^:@]+(:[^:]+|@sha256:[0-9a-f]{64})$/);
      expect(stage.from).not.toMatch(/:latest$/);
    }
  });

  it('installs production dependencies only, exactly as the lock says, running no install script', () => {
    const installs = image.stages
      .flatMap((s) => s.instructions)
      .filter((i) => /\bnpm (install|i|ci|add)\b/.test(i.args));
    // `npm ci`, never `npm install`: it installs the lock as it is and never rewrites it.
    expect(installs.map((i) => i.args.match(/\bnpm (install|i|ci|add)\b/)?.[0])).toEqual(['npm ci']);
    expect(installs[0]?.args).toMatch(/--omit=dev/);
    expect(installs[0]?.args).toMatch(/--ignore-scripts/);
  });

  it('runs as a numeric non-root user, the one the manifests run as', () => {
    const uid = Number(image.user?.split(':')[0]);
    expect(uid).toBeGreaterThan(0);
    for (const { workload, container } of serviceContainers(rendered('k8s/base'))) {
      const runAs =
        container.securityContext?.runAsUser ?? workload.spec.template.spec.securityContext?.runAsUser;
      expect(runAs, workload.metadata.name).toBe(uid);
    }
  });

  it('CMD runs a service entry point that is in the image', () => {
    expect(image.cmd?.[0]).toBe('node');
    expect(inImage(image, image.cmd?.[1] ?? '')).toBe(true);
  });

  it("runs the services with @tandem/system's runtime settings, and a compile cache warmed at build", () => {
    // system/src/runtime.ts defines them once for the launcher; the image must say the same.
    expect(image.env.NODE_OPTIONS).toBe(nodeOptions.join(' '));
    expect(image.env).toMatchObject(runtimeEnv);
    const cache = image.env.NODE_COMPILE_CACHE ?? '';
    expect(cache).toMatch(/^\//);
    // Warmed as the containers' user (the cache is per user), for every service.
    const steps = image.final.instructions;
    const warm = steps.findIndex(
      (i) => i.keyword === 'RUN' && /\$NODE_COMPILE_CACHE/.test(i.args) && /node /.test(i.args),
    );
    expect(warm).toBeGreaterThan(steps.findIndex((i) => i.keyword === 'USER'));
    for (const service of serviceNames) expect(steps[warm]?.args).toContain(service);
    // No manifest replaces them.
    for (const { workload, container } of serviceContainers(rendered('k8s/base'))) {
      const names = (container.env ?? []).map((variable: { name: string }) => variable.name);
      expect(names, workload.metadata.name).not.toContain('NODE_OPTIONS');
      for (const name of [...Object.keys(runtimeEnv), 'NODE_COMPILE_CACHE']) {
        expect(names, workload.metadata.name).not.toContain(name);
      }
    }
  });

  it('every COPY source exists and is in the build context', () => {
    expect(image.copied.length).toBeGreaterThan(0);
    for (const source of image.copied) {
      const path = source.replace(/\/$/, '');
      expect(existsSync(fromRoot(path)) && image.inContext(path), source).toBe(true);
    }
  });

  it('each Deployment runs `node <service>/src/index.ts` of a file that is in the image', () => {
    const containers = serviceContainers(rendered('k8s/base'));
    expect(containers.map((c) => c.service).sort()).toEqual([...serviceNames].sort());
    for (const { container } of containers) {
      const entry = container.command?.[1] ?? '';
      expect(inImage(image, entry), entry).toBe(true);
      expect(container.image).toMatch(/\/tandem:[^:]+$/);
    }
  });

  it("the services' workspace dependencies are in the image, transitively", () => {
    const { folders, missing } = workspaceClosure(serviceNames.map((s) => `@tandem/${s}`));
    expect(missing).toEqual([]);
    expect(folders.filter((folder) => !inImage(image, `${folder}/package.json`))).toEqual([]);
    expect(folders.length).toBeGreaterThan(serviceNames.length);
  });
});
