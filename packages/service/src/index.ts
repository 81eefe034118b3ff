export { closeHttpServer } from './http.ts';
export { createLogger, type Logger } from './logger.ts';
export { type MetricsServerOptions, type RouteHandler, startMetricsServer } from './metrics.ts';
export { onShutdown } from './shutdown.ts';
