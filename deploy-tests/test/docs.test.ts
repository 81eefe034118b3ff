import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { componentNames, overlayNames } from '../src/combinations.ts';
import { fromRoot } from '../src/paths.ts';

const readme = readFileSync(fromRoot('k8s', 'README.md'), 'utf8');

describe('documentation', () => {
  it('k8s/README.md documents every overlay (each is a combination the tests build)', () => {
    expect(overlayNames().filter((name) => !readme.includes(`k8s/overlays/${name}`))).toEqual([]);
  });

  it('every component has a README, is in k8s/README.md and is used by an overlay', () => {
    const overlays = overlayNames().map((name) =>
      readFileSync(fromRoot('k8s', 'overlays', name, 'kustomization.yaml'), 'utf8'),
    );
    for (const name of componentNames()) {
      expect(existsSync(fromRoot('k8s', 'components', name, 'README.md')), `${name}/README.md`).toBe(true);
      expect(readme, `k8s/README.md mentions components/${name}`).toContain(`components/${name}`);
      expect(
        overlays.some((text) => text.includes(`../../components/${name}`)),
        `an overlay uses ${name}`,
      ).toBe(true);
    }
  });

  it('the operator folders have a README', () => {
    for (const dir of ['strimzi', 'rabbitmq-operator'])
      expect(existsSync(fromRoot(dir, 'README.md')), dir).toBe(true);
  });
});
