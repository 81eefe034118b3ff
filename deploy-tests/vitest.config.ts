import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The cluster check needs an API server: `npm run test:cluster` (vitest.cluster.config.ts) runs it.
    exclude: ['test/cluster/**'],
    // Once, before any test file runs: checks that kustomize is in .tools/bin (`npm test` installs it beforehand;
    // run on their own, the tests install it here, a go install the first time) and, when no CRD folder is there,
    // downloads the pinned CRDs (src/crd-source.ts).
    globalSetup: ['./src/global-setup.ts'],
    hookTimeout: 600_000,
    testTimeout: 60_000,
  },
});
