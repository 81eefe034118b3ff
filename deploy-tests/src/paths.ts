/** Where things are: this package lives at <repo>/deploy-tests/src/. */
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fromRoot = (...parts: string[]) => [repoRoot.replace(/\/$/, ''), ...parts].join('/');
/** The upstream CRDs, kept beside the repository (never copied into it): see its SOURCES.md. */
export const sharedCrds = fromRoot('..', 'shared', 'crds');
export const toolsBin = fromRoot('.tools', 'bin');
