export { type CountingHandlerOptions, createCountingHandler } from './handler.ts';
export type { LatencySnapshot } from './latency.ts';
export { type ConsumerOptions, runConsumer } from './run.ts';
