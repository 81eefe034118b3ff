export {
  type CountingHandlerOptions,
  countingHandlerDefaults,
  createCountingHandler,
} from './handler.ts';
export type { LatencySnapshot } from './latency.ts';
export { notReadyBecause, type ReadinessSources, readinessRoutes } from './ready.ts';
export { type ConsumerOptions, runConsumer } from './run.ts';
export {
  type RefusalLog,
  StoreWrites,
  type StoreWritesOptions,
  storeWritesDefaults,
} from './store-writes.ts';
