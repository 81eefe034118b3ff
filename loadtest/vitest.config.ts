import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Once, before any test file runs: the pinned k6 in .tools/bin, built with `go install` the first time
    // (install-k6.sh; a few minutes cold), so the k6 script tests run on every machine instead of being skipped.
    globalSetup: ['./test/global-setup.ts'],
  },
});
