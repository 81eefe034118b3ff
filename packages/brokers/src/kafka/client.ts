import { type Admin, Kafka, type LogEntry, logLevel } from 'kafkajs';
import { type BrokerLogger, stderrLogger } from '../logger.ts';

export interface KafkaClientOptions {
  /** `host:port` of each bootstrap broker (KAFKA_BROKERS split on commas). */
  brokers: readonly string[];
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
    ...(requestTimeoutMs === undefined ? {} : { requestTimeout: requestTimeoutMs }),
    ...(clientRetries === undefined ? {} : { retry: { retries: clientRetries } }),
  });
}

/** Runs `work` with a connected admin client of its own, and disconnects it whatever happens: for tools. */
export async function withKafkaAdmin<T>(
  options: Pick<KafkaClientOptions, 'brokers' | 'logger'> & Partial<Pick<KafkaClientOptions, 'clientId'>>,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const { brokers, logger, clientId = 'tandem-admin' } = options;
  const admin = createKafkaClient({ brokers, clientId, ...(logger ? { logger } : {}) }).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
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
