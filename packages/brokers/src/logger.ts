/**
 * The adapters log through this small interface; a pino logger fits it as is (`logger.warn({ err }, 'message')`).
 * Without one they write warnings and errors to stderr, so that a broken connection is never silent.
 */
export interface BrokerLogger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const ignore = () => {};

export const silentLogger: BrokerLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };

export const stderrLogger: BrokerLogger = {
  debug: ignore,
  info: ignore,
  warn: (fields, message) => console.warn(message ?? '', fields),
  error: (fields, message) => console.error(message ?? '', fields),
};
