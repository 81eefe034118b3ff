/**
 * The second Kafka client: @platformatic/kafka, a maintained pure-TypeScript client (kafkajs has had no release since
 * 2023). Every client of this adapter — producer, consumer, admin, the publisher's probe — is built here, from the
 * same options the kafkajs adapter takes, so that a service switches between the two with one setting
 * (KAFKA_CLIENT).
 */
import { Admin, type BaseOptions, GenericError } from '@platformatic/kafka';
import type { KafkaSasl } from '@tandem/config';
import type { KafkaClientOptions } from '../kafka/client.ts';
import { type BrokerLogger, stderrLogger } from '../logger.ts';
import { type RetryOptions, retrying } from '../retry.ts';

/**
 * The options every @platformatic/kafka client of the project starts from: the brokers, the SASL/SCRAM login, and
 * kafkajs's connect timeout (3 s) and request timeout (30 s, or the caller's), so that the two adapters wait alike.
 * `retries` is the client's own retries of one operation (its default: 3, 1 s apart).
 */
export function platformaticBaseOptions(
  { brokers, sasl, clientId, requestTimeoutMs, clientRetries }: KafkaClientOptions,
  overrides: { retries?: number; retryDelayMs?: number } = {},
): BaseOptions {
  const retries = overrides.retries ?? clientRetries;
  return {
    clientId,
    bootstrapBrokers: [...brokers],
    connectTimeout: 3000,
    requestTimeout: requestTimeoutMs ?? 30_000,
    // The library's own default timeout of an operation is 5 s; a broker request may take requestTimeout.
    timeout: requestTimeoutMs ?? 30_000,
    ...(sasl ? { sasl: saslOptions(sasl) } : {}),
    ...(retries === undefined ? {} : { retries }),
    ...(overrides.retryDelayMs === undefined ? {} : { retryDelay: overrides.retryDelayMs }),
  };
}

/** The mechanism names @platformatic/kafka uses (upper case). */
function saslOptions({ mechanism, username, password }: KafkaSasl) {
  return {
    mechanism: mechanism === 'scram-sha-256' ? ('SCRAM-SHA-256' as const) : ('SCRAM-SHA-512' as const),
    username,
    password,
  };
}

/** Every error in a @platformatic/kafka error's tree: itself, the errors it aggregates and its causes. */
function errorTree(error: unknown): Error[] {
  const found: Error[] = [];
  const visit = (current: unknown, depth: number) => {
    if (depth > 8 || !(current instanceof Error)) return;
    found.push(current);
    if (current instanceof AggregateError) for (const inner of current.errors) visit(inner, depth + 1);
    visit(current.cause, depth + 1);
  };
  visit(error, 0);
  return found;
}

const codeOf = (error: Error) => (error as { code?: unknown }).code;

/**
 * Whether a @platformatic/kafka error is worth another attempt: a network error (a broker away, a connection lost
 * or timed out), a protocol error the library marks `canRetry` (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS,
 * LEADER_NOT_AVAILABLE …), or the library's own "failed N times" whose every attempt failed that way. Never an
 * authentication failure (the library wraps it in a retriable NetworkError: the whole tree is read, causes
 * included), a refusal the broker calls final, or a usage error (the client closed meanwhile, a bad option, an
 * unknown topic).
 */
export function isRetriablePlatformaticError(error: unknown): boolean {
  if (!(error instanceof Error) || !GenericError.isGenericError(error)) return false;
  const tree = errorTree(error);
  const final = tree.some(
    (e) =>
      codeOf(e) === 'PLT_KFK_AUTHENTICATION' ||
      codeOf(e) === 'PLT_KFK_USER' ||
      (codeOf(e) === 'PLT_KFK_PROTOCOL' && (e as { canRetry?: unknown }).canRetry === false),
  );
  if (final) return false;
  return tree.some(
    (e) =>
      codeOf(e) === 'PLT_KFK_NETWORK' ||
      (codeOf(e) === 'PLT_KFK_PROTOCOL' && (e as { canRetry?: unknown }).canRetry === true),
  );
}

/**
 * The library's answer when the broker does not know a topic: a usage error, "Unknown topic <name>.". A topic
 * created a moment ago gets it too (a fresh broker's metadata for a new client, as kafkajs sees it), so the
 * adapters wait it out where the topic is known to exist.
 */
export function isUnknownTopicError(error: unknown): boolean {
  return errorTree(error).some((e) => codeOf(e) === 'PLT_KFK_USER' && e.message.startsWith('Unknown topic '));
}

/** Either: worth another attempt where the topic is known to exist (or to be on its way). */
export const isRetriableForKnownTopic = (error: unknown) =>
  isUnknownTopicError(error) || isRetriablePlatformaticError(error);

/**
 * A wrong login is wrapped by the library as "Cannot connect to any broker" / "<operation> failed": this says
 * what it is, with the library's error as `cause`; any other error is returned as it is.
 */
export function explainPlatformaticError(error: unknown): unknown {
  const auth = errorTree(error).find((e) => codeOf(e) === 'PLT_KFK_AUTHENTICATION');
  if (!auth) return error;
  const explained = new Error(`kafka: ${auth.message} (a wrong SASL user name or password?)`, {
    cause: error,
  });
  explained.name = 'KafkaAuthenticationError';
  return explained;
}

/** The protocol error ids (`UNKNOWN_TOPIC_OR_PARTITION`, `NON_EMPTY_GROUP` …) anywhere in an error. */
export function protocolErrorIds(error: unknown): string[] {
  return errorTree(error).flatMap((e) => {
    const { apiId } = e as { apiId?: unknown };
    return typeof apiId === 'string' ? [apiId] : [];
  });
}

export interface PlatformaticAdminOptions
  extends Pick<KafkaClientOptions, 'brokers' | 'sasl' | 'logger'>,
    Partial<Pick<KafkaClientOptions, 'clientId'>> {
  /** The bound and backoff of the retry of retriable errors (default: 30 s, from 100 ms up to 2 s). */
  retry?: RetryOptions;
}

/**
 * withKafkaAdmin's twin: runs `work` with an admin client of its own and closes it whatever happens. A retriable
 * error (isRetriablePlatformaticError) runs it all again on a fresh admin, with the shared bounded retry; any other
 * error rejects at once. The admin itself tries each operation once: the retry here is the only one, so that the
 * bound holds.
 */
export function withPlatformaticAdmin<T>(
  options: PlatformaticAdminOptions,
  work: (admin: Admin) => Promise<T>,
): Promise<T> {
  const { brokers, logger, clientId = 'tandem-admin' } = options;
  return retrying(
    async () => {
      const admin = new Admin(platformaticBaseOptions({ ...options, clientId }, { retries: 0 }));
      try {
        return await work(admin);
      } catch (error) {
        throw explainPlatformaticError(error);
      } finally {
        await admin.close().catch(() => {});
      }
    },
    {
      ...options.retry,
      what: `kafka admin ${clientId} (${brokers.join(',')})`,
      isRetriable: isRetriablePlatformaticError,
      onRetry: ({ error, attempt, delayMs }) =>
        (logger ?? stderrLogger).warn(
          { component: 'kafka-admin', client: 'platformatic', clientId, attempt, delayMs, err: error },
          'kafka admin call failed with a retriable error; retrying on a fresh admin',
        ),
    },
  );
}

export type { BrokerLogger };
