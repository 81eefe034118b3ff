import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Chromium (the live page's browser test) and Prometheus (the dashboards' test), installed if missing.
    globalSetup: ['test/tools-setup.ts'],
  },
});
