import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Kafka and RabbitMQ suites run against the local stack (npm run stack:up).
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
