import { defineConfig } from 'vitest/config';

// The cluster check (`npm run test:cluster`): needs a running API server (`npm run k8s:up`, or KUBECONFIG); the
// default config (`npm test`) stays offline and leaves these files out.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['./src/cluster-setup.ts'],
    hookTimeout: 600_000,
    testTimeout: 120_000,
  },
});
