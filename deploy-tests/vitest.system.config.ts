import { defineConfig } from 'vitest/config';

// The whole system on a real cluster (`npm run test:k8s`, k8s/test.sh): deploys k8s/overlays/no-operator to the
// current cluster, loads it with the k6 Job, checks the HPA and the counts, removes it. Not part of `npm test`
// (its files are *.system.ts, which the default config does not pick up).
export default defineConfig({
  test: {
    include: ['test/system/**/*.system.ts'],
    hookTimeout: 1_800_000,
    testTimeout: 600_000,
    // One deployment, shared by the tests of the file, in order.
    sequence: { concurrent: false },
  },
});
