import { pino } from 'pino';

export type Logger = pino.Logger;

/**
 * JSON lines on stdout (or `destination`). Secrets never reach the log: connection URLs are logged through
 * `redact` by callers, and these paths are censored wherever they appear.
 */
export function createLogger(service: string, level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    redact: { paths: ['password', '*.password', 'url', '*.url'], censor: '***' },
  };
  return destination ? pino(options, destination) : pino(options);
}
