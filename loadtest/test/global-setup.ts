/**
 * Makes sure the generators the tests run are there: k6 (K6 if set, else the pinned build in .tools/bin, built by
 * install-k6.sh when missing) and vegeta (VEGETA, else install-vegeta.sh's build); their progress goes to stderr.
 * Hands their paths to the tests as `inject('k6')` and `inject('vegeta')`.
 */
import type { TestProject } from 'vitest/node';
import { ensureK6, k6Version } from '../src/k6.ts';
import { ensureVegeta, vegetaVersion } from '../src/vegeta.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The k6 binary the tests run. */
    k6: string;
    /** The vegeta binary the bench's tests run. */
    vegeta: string;
  }
}

export default function setup(project: TestProject): void {
  const k6 = ensureK6();
  console.log(`loadtest: ${k6Version(k6)} (${k6})`);
  project.provide('k6', k6);
  const vegeta = ensureVegeta();
  console.log(`loadtest: ${vegetaVersion(vegeta)} (${vegeta})`);
  project.provide('vegeta', vegeta);
}
