import type { KafkaSasl } from '@tandem/config';
import { type Admin, Kafka, type LogEntry, logLevel, type SASLOptions } from 'kafkajs';
import { type BrokerLogger, stderrLogger } from '../logger.ts';
import { isRetriableKafkaError, type RetryOptions, retrying } from '../retry.ts';

export interface KafkaClientOptions {
  /** `host:port` of each bootstrap broker (KAFKA_BROKERS split on commas). */
  brokers: readonly string[];
  /**
   * SASL/SCRAM credentials, for a listener that requires them (the local stack's and the cluster's do); absent, the
   * client connects without authenticating. From the environment: `kafkaConnection()` of `@tandem/config`.
   */
  sasl?: KafkaSasl | undefined;
  clientId: string;
  logger?: BrokerLogger;
  /** Timeout of one broker request (ms); kafkajs's default is 30000. */
  requestTimeoutMs?: number;
  /**
   * Retries of the client's own connection and metadata requests (kafkajs's default: 5, from 300 ms, ~9 s in all).
   * A probe that must answer quickly sets 0.
   */
  clientRetries?: number;
}

/** One kafkajs client whose log goes to a BrokerLogger. */
export function createKafkaClient({
  brokers,
  sasl,
  clientId,
  logger,
  requestTimeoutMs,
  clientRetries,
}: KafkaClientOptions): Kafka {
  const target = logger ?? stderrLogger;
  return new Kafka({
    brokers: [...brokers],
    clientId,
    // With a logger of their own, callers filter by level there; without, only warnings and errors are worth it.
    logLevel: logger ? logLevel.INFO : logLevel.WARN,
    logCreator: () => (entry) => write(target, entry),
    connectionTimeout: 3000,
    // The only place a kafkajs client is made: every producer, consumer and admin of the project authenticates here.
    ...(sasl ? { sasl: saslOptions(sasl) } : {}),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeout: requestTimeoutMs }),
    ...(clientRetries === undefined ? {} : { retry: { retries: clientRetries } }),
  });
}

/** kafkajs's SASL options for SCRAM: one object type per mechanism. */
function saslOptions({ mechanism, username, password }: KafkaSasl): SASLOptions {
  return mechanism === 'scram-sha-256'
    ? { mechanism, username, password }
    : { mechanism, username, password };
}

export interface KafkaAdminOptions
  extends Pick<KafkaClientOptions, 'brokers' | 'sasl' | 'logger'>,
    Partial<Pick<KafkaClientOptions, 'clientId'>> {
  /** The bound and backoff of the retry of retriable errors (default: 30 s, from 100 ms up to 2 s). */
  retry?: RetryOptions;
  /** Stands in for kafkajs's admin: for unit tests of the retry. */
  createAdmin?: () => Admin;
}

/**
 * Runs `work` with a connected admin client of its own, and disconnects it whatever happens: for tools. An error
 * kafkajs calls retriable (isRetriableKafkaError: NOT_COORDINATOR, a coordinator loading, no leader yet, a broker
 * away …) runs it all again on a fresh admin, with backoff, for up to `retry.timeoutMs` (30 s); then it rejects with
 * RetriesExhaustedError (the attempts and the last error). Any other error rejects at once. `work` may therefore
 * run more than once: it must be safe to repeat.
 */
export function withKafkaAdmin<T>(
  options: KafkaAdminOptions,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const { brokers, sasl, logger, clientId = 'tandem-admin' } = options;
  const createAdmin =
    options.createAdmin ??
    (() => createKafkaClient({ brokers, sasl, clientId, ...(logger ? { logger } : {}) }).admin());
  return retrying(
    async () => {
      const admin = createAdmin();
      try {
        await admin.connect();
        return await work(admin);
      } finally {
        // A failed connect may have left connections open too; a failed disconnect must not hide work's error.
        await admin.disconnect().catch(() => {});
      }
    },
    {
      ...options.retry,
      what: `kafka admin ${clientId} (${brokers.join(',')})`,
      isRetriable: isRetriableKafkaError,
      onRetry: ({ error, attempt, delayMs }) =>
        (logger ?? stderrLogger).warn(
          { component: 'kafka-admin', clientId, attempt, delayMs, err: error },
          'kafka admin call failed with a retriable error; retrying on a fresh admin',
        ),
    },
  );
}

function write(logger: BrokerLogger, { namespace, level, log }: LogEntry): void {
  const { message, timestamp: _timestamp, ...rest } = log;
  const fields = { component: 'kafkajs', namespace, ...rest };
  switch (level) {
    case logLevel.ERROR:
      // kafkajs logs every error response of the protocol at ERROR in its Connection, including the ones it
      // retries itself (a rebalance in progress, a coordinator still loading); the caller sees the ones that last.
      if (namespace === 'Connection') logger.warn(fields, message);
      else logger.error(fields, message);
      return;
    case logLevel.WARN:
      logger.warn(fields, message);
      return;
    case logLevel.INFO:
      logger.info(fields, message);
      return;
    default:
      logger.debug(fields, message);
  }
}
