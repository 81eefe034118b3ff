export { createLogger, type Logger } from './logger.ts';
export { startMetricsServer } from './metrics.ts';
export { onShutdown } from './shutdown.ts';
