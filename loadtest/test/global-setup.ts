/**
 * Makes sure the k6 that the script tests run is there: K6 if set, else the pinned build in .tools/bin, built by
 * install-k6.sh when missing (its progress goes to stderr). Hands its path to the tests as `inject('k6')`.
 */
import type { TestProject } from 'vitest/node';
import { ensureK6, k6Version } from '../src/k6.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The k6 binary the tests run. */
    k6: string;
  }
}

export default function setup(project: TestProject): void {
  const k6 = ensureK6();
  console.log(`loadtest: ${k6Version(k6)} (${k6})`);
  project.provide('k6', k6);
}
