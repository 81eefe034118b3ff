/**
 * Every documented combination: the base, each overlay under k8s/overlays (one folder per combination that
 * k8s/README.md documents), and the operator folders on their own. Tests build each of them.
 */
import { readdirSync } from 'node:fs';
import { kustomizeBuild } from './kustomize.ts';
import type { K8sObject } from './manifests.ts';
import { fromRoot } from './paths.ts';

export interface Combination {
  /** Folder relative to the repository root. */
  dir: string;
  /** Whether it holds the application (the four services): the base or an overlay of it. */
  app: boolean;
}

const subfolders = (dir: string) =>
  readdirSync(fromRoot(dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();

export const overlayNames = () => subfolders('k8s/overlays');
export const componentNames = () => subfolders('k8s/components');

export function combinations(): Combination[] {
  return [
    { dir: 'k8s/base', app: true },
    ...overlayNames().map((name) => ({ dir: `k8s/overlays/${name}`, app: true })),
    { dir: 'strimzi', app: false },
    { dir: 'rabbitmq-operator', app: false },
  ];
}

const cache = new Map<string, K8sObject[]>();

/** The objects of one combination, built once per test file. */
export function rendered(dir: string): K8sObject[] {
  let objects = cache.get(dir);
  if (!objects) {
    objects = kustomizeBuild(dir);
    cache.set(dir, objects);
  }
  return objects;
}
