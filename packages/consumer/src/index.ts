export { type CountingHandlerOptions, createCountingHandler } from './handler.ts';
export { type ConsumerOptions, runConsumer } from './run.ts';
