import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Installs kustomize into .tools/bin once, before any test file runs (a go install the first time).
    globalSetup: ['./src/global-setup.ts'],
    hookTimeout: 600_000,
    testTimeout: 60_000,
  },
});
