/**
 * Configuration from the environment (docs/architecture.md, "Names"): parsed and validated once at start-up, and
 * a bad value stops the service with a message that names the variable.
 *
 * The local stack writes its connection settings to `.stack/env`; `loadStackEnv()` reads that file into
 * `process.env` without overriding what the caller already set, so an explicit variable always wins.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { z } from 'zod';

/** The repository root: this file lives at packages/config/src/. */
export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const stackEnvPath = `${projectRoot}.stack/env`;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A dotenv file's variables, or undefined if there is no file: the one reader of the stack's env files. */
export function readEnvFile(path: string): Record<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  return Object.fromEntries(
    Object.entries(parseEnv(readFileSync(path, 'utf8'))).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
}

/** Reads a dotenv file into `env`, keeping every variable `env` already has. Returns false if there is no file. */
export function loadStackEnv(path = stackEnvPath, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = readEnvFile(path);
  if (file === undefined) return false;
  for (const [name, value] of Object.entries(file)) env[name] ??= value;
  return true;
}

/** Parses `env` with a zod object schema whose keys are variable names; all problems are reported at once. */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(environment)');
    const given = env[name];
    const shown =
      given === undefined
        ? 'not set'
        : isSecret(schema.shape[name])
          ? 'its value is secret and not shown'
          : `got ${JSON.stringify(redact(given))}`;
    return `  ${name}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/**
 * Marks a variable whose whole value is secret (API keys, tokens): an error names the variable and says what is
 * wrong, but never shows what it was given, as it shows other values.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  return schema.meta({ secret: true }) as T;
}

function isSecret(field: unknown): boolean {
  return field instanceof z.ZodType && field.meta()?.secret === true;
}

/** Hides the password of a URL-shaped value so that configuration can be logged and shown in errors. */
export function redact(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

const emptyAsUnset = (value: unknown) => (value === '' ? undefined : value);

/** Field builders for the variables the services share, so every service validates them the same way. */
export const env = {
  port: (fallback: number) =>
    z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(65535).default(fallback)),
  positiveInt: (fallback: number) =>
    z.preprocess(emptyAsUnset, z.coerce.number().int().positive().default(fallback)),
  string: (fallback: string) => z.preprocess(emptyAsUnset, z.string().trim().min(1).default(fallback)),
  url: (protocols: readonly string[]) =>
    z
      .string({ error: 'required' })
      .refine(
        (value) => URL.canParse(value) && protocols.includes(new URL(value).protocol),
        `must be a ${protocols.map((p) => `${p}//`).join(' or ')} URL`,
      ),
  /** `host:port[,host:port…]`, as KAFKA_BROKERS. */
  hostPorts: () =>
    z
      .string({ error: 'required' })
      .transform((value) => value.split(',').map((part) => part.trim()))
      .refine(
        (parts) => parts.every((part) => /^[^\s:]+:\d{1,5}$/.test(part)),
        'must be host:port[,host:port…]',
      ),
  logLevel: () =>
    z.preprocess(
      emptyAsUnset,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
};

/** The SASL mechanisms a Kafka client can authenticate with (SCRAM; the names kafkajs uses). */
export const kafkaSaslMechanisms = ['scram-sha-256', 'scram-sha-512'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

/**
 * The Kafka client libraries `@tandem/brokers` has an adapter for, behind the same contract; KAFKA_CLIENT picks one
 * for grpc-ingest and kafka-consumer.
 */
export const kafkaClientNames = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof kafkaClientNames)[number];
/** The client a service uses unless KAFKA_CLIENT names another: switching the default is this one line. */
export const defaultKafkaClient: KafkaClientName = 'platformatic';

/** SASL/SCRAM credentials for a Kafka listener that requires them. */
export interface KafkaSasl {
  mechanism: KafkaSaslMechanism;
  username: string;
  password: string;
}

/** Where a Kafka client connects, and as whom: what every Kafka client of the project is given. */
export interface KafkaConnection {
  brokers: string[];
  /** Absent: the listener takes clients without authentication. */
  sasl?: KafkaSasl;
}

/**
 * The variables of a Kafka connection, for a schema's object: KAFKA_BROKERS, KAFKA_CLIENT (which client library:
 * `platformatic` unless set, see defaultKafkaClient), and for a listener that requires
 * SASL/SCRAM KAFKA_SASL_USERNAME with KAFKA_SASL_PASSWORD (both or neither: add `.superRefine(kafkaSaslComplete)`)
 * and KAFKA_SASL_MECHANISM (`scram-sha-512` unless set). The password is secret(): never shown in an error.
 */
export const kafkaFields = {
  KAFKA_BROKERS: env.hostPorts(),
  KAFKA_CLIENT: z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? value.trim().toLowerCase() : undefined),
    z
      .enum(kafkaClientNames, { error: `must be one of ${kafkaClientNames.join(', ')}` })
      .default(defaultKafkaClient),
  ),
  KAFKA_SASL_MECHANISM: z.preprocess(
    (value) => (typeof value === 'string' && value !== '' ? value.toLowerCase() : undefined),
    z.enum(kafkaSaslMechanisms).default('scram-sha-512'),
  ),
  KAFKA_SASL_USERNAME: z.preprocess(emptyAsUnset, z.string().trim().min(1).optional()),
  KAFKA_SASL_PASSWORD: secret(z.preprocess(emptyAsUnset, z.string().min(1).optional())),
};

interface KafkaVariables {
  KAFKA_BROKERS: string[];
  KAFKA_SASL_MECHANISM: KafkaSaslMechanism;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

/** The cross-field rule of kafkaFields: a user name without a password (or the reverse) is a mistake, not "no auth". */
export function kafkaSaslComplete(config: KafkaVariables, context: z.RefinementCtx): void {
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  if (username !== undefined && password === undefined)
    context.addIssue({
      code: 'custom',
      path: ['KAFKA_SASL_PASSWORD'],
      message: 'required with KAFKA_SASL_USERNAME',
    });
  if (password !== undefined && username === undefined)
    context.addIssue({
      code: 'custom',
      path: ['KAFKA_SASL_USERNAME'],
      message: 'required with KAFKA_SASL_PASSWORD',
    });
}

/** A Kafka connection's variables alone (tools and tests that only talk to Kafka). */
export const kafkaConnectionSchema = z.object(kafkaFields).superRefine(kafkaSaslComplete);

/** The parsed variables as the brokers package's client options take them: `{ brokers, sasl? }`. */
export function kafkaConnection(config: KafkaVariables): KafkaConnection {
  const { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = config;
  return {
    brokers: config.KAFKA_BROKERS,
    ...(username !== undefined && password !== undefined
      ? { sasl: { mechanism: config.KAFKA_SASL_MECHANISM, username, password } }
      : {}),
  };
}

/** The Kafka connection named by an environment (a record of variables, `process.env` by default); throws a ConfigError. */
export function kafkaConnectionFromEnv(variables: NodeJS.ProcessEnv = process.env): KafkaConnection {
  return kafkaConnection(parseConfig(kafkaConnectionSchema, variables));
}

/**
 * A service's start-up: `.stack/env` under the environment, then the schema; a bad value ends the process with
 * exit code 2 and a message naming each variable, before anything connects anywhere.
 */
export function loadServiceConfig<S extends z.ZodObject>(service: string, schema: S): z.output<S> {
  // Named after the service in ps and pkill, not `node src/index.ts`.
  process.title = service;
  loadStackEnv();
  try {
    return parseConfig(schema);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`${service}: ${error.message}`);
    process.exit(2);
  }
}
