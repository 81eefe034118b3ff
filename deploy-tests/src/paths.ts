/** Where things are: this package lives at <repo>/deploy-tests/src/. */
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fromRoot = (...parts: string[]) => [repoRoot.replace(/\/$/, ''), ...parts].join('/');
export const toolsBin = fromRoot('.tools', 'bin');
/**
 * Upstream CRDs kept beside the repository, in a `shared/crds` folder next to it, when the machine has one: the
 * second place crd-source.ts looks (never copied into the repository).
 */
export const siblingCrds = fromRoot('..', 'shared', 'crds');
/** Where the pinned upstream CRDs are downloaded to, one folder per pinned set (git-ignored, as all of .tools). */
export const crdCache = fromRoot('.tools', 'crds');
