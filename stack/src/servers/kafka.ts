/**
 * Apache Kafka in KRaft mode, one process as both broker and controller, run from the jars Maven fetched
 * (`java -cp 'lib/*' kafka.Kafka server.properties`). Settings are the single-node ones: replication factor 1
 * and min ISR 1 for the internal topics, no initial rebalance delay, a modest heap.
 *
 * Clients must authenticate: the client listener is SASL_PLAINTEXT with SCRAM-SHA-512 only, and the broker talks to
 * itself over it as the same user. The controller listener stays PLAINTEXT on loopback (KRaft's own traffic; it
 * takes no produce or fetch). The SCRAM user is written into the metadata when the storage is formatted
 * (`kafka-storage format --add-scram`). A data folder formatted before the stack had a Kafka user (or a user whose
 * password changed in secrets.json) gets it without losing its data: the broker starts once with SASL/PLAIN beside
 * SCRAM, the PLAIN login taken from server.properties, `kafka-configs --alter` adds the SCRAM credential through
 * that login (Kafka 4.1 does not take it over the controller listener), and the broker restarts with SCRAM only.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaJarsDir, kafkaVersion } from '../install.ts';
import { type StackLocation, serverDir } from '../paths.ts';
import { isAlive, portOpen, run, StackError, startDetached, stopPid } from '../processes.ts';
import type { Secrets } from '../secrets.ts';
import type { LocalServer } from './types.ts';

const heap = ['-Xms256m', '-Xmx768m'];

function java(
  mainClass: string,
  args: readonly string[],
  jvm: readonly string[] = [],
  log4j?: string,
): [string, string[]] {
  return ['java', [...javaOptions(jvm, log4j), mainClass, ...args]];
}

/**
 * As java(), with the main class and its arguments in `argFile` (`java @file`, readable by its owner only), so that
 * `ps` never shows them: for a command whose arguments carry a secret. The caller removes the file afterwards.
 */
function javaWithArgFile(
  argFile: string,
  mainClass: string,
  args: readonly string[],
  jvm: readonly string[] = [],
  log4j?: string,
): [string, string[]] {
  // One argument per line, quoted; inside quotes the launcher reads \\ and \" as \ and ".
  const quote = (arg: string) => `"${arg.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  writePrivate(argFile, `${[mainClass, ...args].map(quote).join('\n')}\n`);
  // Only the arguments go in the file: the launcher expands no class-path wildcard read from one.
  return ['java', [...javaOptions(jvm, log4j), `@${argFile}`]];
}

const javaOptions = (jvm: readonly string[], log4j?: string) => [
  ...jvm,
  ...(log4j ? [`-Dlog4j2.configurationFile=${log4j}`] : []),
  '-cp',
  `${kafkaJarsDir()}/*`,
];

/** The one SASL mechanism the broker enables; the stack's env file names it for the clients (kafkajs spelling). */
export const kafkaSaslMechanism = 'SCRAM-SHA-512';

/** SASL/SCRAM credentials as the stack's clients use them. */
export interface KafkaCredentials {
  username: string;
  password: string;
}

const credentials = (secrets: Secrets): KafkaCredentials => {
  const { kafkaUser: username, kafkaPassword: password } = secrets;
  // They go into Kafka's own syntaxes (JAAS, `[name=…,password=…]`) unquoted: letters, digits and `._~-` only.
  for (const [what, value] of [
    ['kafkaUser', username],
    ['kafkaPassword', password],
  ] as const) {
    if (!/^[A-Za-z0-9._~-]+$/.test(value ?? ''))
      throw new StackError(`${what} in the stack's secrets.json must be letters, digits and ._~- only`);
  }
  return { username, password };
};

/** A client's JAAS line for SCRAM (server.properties for the broker's own inter-broker login, a tool's config). */
const jaas = ({ username, password }: KafkaCredentials) =>
  `org.apache.kafka.common.security.scram.ScramLoginModule required username="${username}" password="${password}";`;

/** The PLAIN login of a migration (see above): the broker's JAAS line also lists the one user it accepts. */
const plainJaas = ({ username, password }: KafkaCredentials, server: boolean) =>
  `org.apache.kafka.common.security.plain.PlainLoginModule required username="${username}" password="${password}"${
    server ? ` user_${username}="${password}"` : ''
  };`;

/** A Kafka tool's client settings (`--command-config`), JAAS line included. */
const clientProperties = (user: KafkaCredentials, mechanism: 'SCRAM-SHA-512' | 'PLAIN') =>
  [
    'security.protocol=SASL_PLAINTEXT',
    `sasl.mechanism=${mechanism}`,
    `sasl.jaas.config=${mechanism === 'PLAIN' ? plainJaas(user, false) : jaas(user)}`,
    '',
  ].join('\n');

/** Writes a file only its owner can read, also when it existed before with a wider mode. */
function writePrivate(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function kafka(location: StackLocation): LocalServer {
  const kafkaPort = 9092 + location.portOffset;
  const controllerPort = 9093 + location.portOffset;
  const bootstrap = `127.0.0.1:${kafkaPort}`;
  const dirs = serverDir(location, 'kafka');
  const configFile = join(dirs.root, 'server.properties');
  const log4jFile = join(dirs.root, 'log4j2.properties');
  const clusterIdFile = join(dirs.root, 'cluster-id');
  /** A digest of the SCRAM credential the metadata is known to hold (written once it is there). */
  const credentialFile = join(dirs.root, 'scram-credential');
  const credentialDigest = ({ username, password }: KafkaCredentials) =>
    createHash('sha256').update(`${kafkaSaslMechanism}\0${username}\0${password}`).digest('hex');

  /** `migrating`: SASL/PLAIN beside SCRAM, for adding the SCRAM credential to existing storage (see above). */
  const writeConfig = (secrets: Secrets, migrating = false): void => {
    const user = credentials(secrets);
    const mechanisms = migrating ? [kafkaSaslMechanism, 'PLAIN'] : [kafkaSaslMechanism];
    mkdirSync(dirs.data, { recursive: true });
    // Holds the password (the broker's own login): readable by its owner only.
    writePrivate(
      configFile,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        `listeners=SASL_PLAINTEXT://${bootstrap},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=SASL_PLAINTEXT://${bootstrap}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
        // Clients and the broker itself: SCRAM-SHA-512 on the one client listener, no unauthenticated way in.
        'inter.broker.listener.name=SASL_PLAINTEXT',
        `sasl.enabled.mechanisms=${mechanisms.join(',')}`,
        `sasl.mechanism.inter.broker.protocol=${mechanisms.at(-1)}`,
        `listener.name.sasl_plaintext.${kafkaSaslMechanism.toLowerCase()}.sasl.jaas.config=${jaas(user)}`,
        ...(migrating
          ? [`listener.name.sasl_plaintext.plain.sasl.jaas.config=${plainJaas(user, true)}`]
          : []),
        `log.dirs=${dirs.data}`,
        'num.partitions=3',
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'share.coordinator.state.topic.replication.factor=1',
        'share.coordinator.state.topic.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        '',
      ].join('\n'),
    );
    writeFileSync(
      log4jFile,
      [
        'status = warn',
        'appender.out.type = Console',
        'appender.out.name = OUT',
        'appender.out.layout.type = PatternLayout',
        'appender.out.layout.pattern = [%d] %p %m (%c)%n',
        'rootLogger.level = INFO',
        'rootLogger.appenderRefs = out',
        'rootLogger.appenderRef.out.ref = OUT',
        '',
      ].join('\n'),
    );
  };

  /** Formats the log directory once, with a cluster id kept beside it and the SCRAM user in its metadata. */
  const formatStorage = async (secrets: Secrets): Promise<void> => {
    if (existsSync(join(dirs.data, 'meta.properties'))) return;
    if (!existsSync(clusterIdFile)) writeFileSync(clusterIdFile, randomBytes(16).toString('base64url'));
    const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
    const user = credentials(secrets);
    // The SCRAM password is an argument of the tool: in a file, never on the command line where `ps` shows it.
    const argFile = join(dirs.root, 'format.args');
    const [command, args] = javaWithArgFile(
      argFile,
      'kafka.tools.StorageTool',
      [
        'format',
        // One value with its flag: a base64url id starts with '-' one time in 64, and the tool then reads it as
        // an option ("argument --cluster-id/-t: expected one argument"), which failed a fresh CI stack.
        `--cluster-id=${clusterId}`,
        '-c',
        configFile,
        '--add-scram',
        `${kafkaSaslMechanism}=[name=${user.username},password=${user.password}]`,
      ],
      [],
      log4jFile,
    );
    try {
      await run(command, args);
    } catch (error) {
      // The tool may echo its --add-scram argument: never the password.
      const output = String((error as { stdout?: string }).stdout ?? error).replaceAll(user.password, '***');
      throw new StackError(`formatting Kafka's storage failed: ${output}`);
    } finally {
      rmSync(argFile, { force: true });
    }
    writePrivate(credentialFile, `${credentialDigest(user)}\n`);
  };

  const credentialRecorded = (user: KafkaCredentials) =>
    existsSync(credentialFile) && readFileSync(credentialFile, 'utf8').trim() === credentialDigest(user);

  const startBroker = (): number => {
    const [command, args] = java(
      'kafka.Kafka',
      [configFile],
      [...heap, '-XX:+UseG1GC', '-Djava.awt.headless=true'],
      log4jFile,
    );
    return startDetached(command, args, { pidFile: dirs.pid, logFile: dirs.log });
  };

  /**
   * Storage formatted before the stack had a Kafka user, or with another password: the broker runs once with
   * SASL/PLAIN beside SCRAM (the one PLAIN user is in server.properties), the SCRAM credential is added through that
   * login, then the broker restarts with SCRAM only. Never without authentication. Returns the broker's pid.
   */
  const migrateCredential = async (secrets: Secrets): Promise<number> => {
    const user = credentials(secrets);
    writeConfig(secrets, true);
    const pid = startBroker();
    // Neither on a command line, where `ps` would show them: files only their owner reads, removed afterwards.
    const credentialProperties = join(dirs.root, 'scram-credential.properties');
    const clientConfig = join(dirs.root, 'migration-client.properties');
    // A file's value is taken as it is: `password=…`, without the brackets that --add-config's parser strips.
    writePrivate(credentialProperties, `${kafkaSaslMechanism}=password=${user.password}\n`);
    writePrivate(clientConfig, clientProperties(user, 'PLAIN'));
    const [command, args] = java(
      'kafka.admin.ConfigCommand',
      [
        '--bootstrap-server',
        bootstrap,
        '--command-config',
        clientConfig,
        '--alter',
        '--add-config-file',
        credentialProperties,
        '--entity-type',
        'users',
        '--entity-name',
        user.username,
      ],
      ['-Xmx128m', '-XX:TieredStopAtLevel=1'],
    );
    const deadline = Date.now() + 90_000;
    let lastError: unknown;
    let added = false;
    try {
      while (!added && Date.now() < deadline && isAlive(pid)) {
        if (await portOpen(kafkaPort)) {
          try {
            await run(command, args);
            added = true;
          } catch (error) {
            lastError = error;
          }
        }
        if (!added) await sleep(1000);
      }
    } finally {
      rmSync(credentialProperties, { force: true });
      rmSync(clientConfig, { force: true });
    }
    // Back to SCRAM only, whatever happened: PLAIN never stays enabled.
    await stopPid(dirs.pid);
    writeConfig(secrets);
    if (!added) {
      const output = (lastError as { stdout?: string; stderr?: string } | undefined) ?? {};
      // The tool echoes what it could not parse: never the password.
      const reason = (output.stderr || output.stdout || String(lastError ?? 'the broker stopped'))
        .trim()
        .split('\n')[0]
        ?.replaceAll(user.password, '***');
      throw new StackError(
        `Kafka: could not add the SCRAM user ${user.username} to its existing storage (${reason}); ` +
          `see ${dirs.log}. \`npm run stack:reset\` formats it afresh, with the user (and without the data).`,
      );
    }
    writePrivate(credentialFile, `${credentialDigest(user)}\n`);
    return startBroker();
  };

  return {
    name: 'kafka',
    ports: [kafkaPort, controllerPort],
    startTimeoutMs: 90_000,
    async start(secrets) {
      writeConfig(secrets);
      await formatStorage(secrets);
      return credentialRecorded(credentials(secrets)) ? startBroker() : migrateCredential(secrets);
    },
    async probe(secrets) {
      const user = credentials(secrets);
      const admin = new Kafka({
        clientId: 'tandem-stack',
        brokers: [bootstrap],
        sasl: { mechanism: 'scram-sha-512', ...user },
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        connectionTimeout: 1000,
      }).admin();
      await admin.connect();
      try {
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) throw new Error('no broker registered yet');
      } finally {
        await admin.disconnect();
      }
      return `Kafka ${kafkaVersion()} (metadata.version ${await brokerMetadataVersion(bootstrap, user)})`;
    },
    outdated() {
      const running = existsSync(configFile) ? readFileSync(configFile, 'utf8') : '';
      // SCRAM and nothing else (a migration that was cut short leaves PLAIN enabled).
      if (new RegExp(`^sasl\\.enabled\\.mechanisms=${kafkaSaslMechanism}$`, 'm').test(running))
        return undefined;
      return (
        'Kafka runs without SASL/SCRAM alone: it was started by an older stack, or while adding its user. Stop it ' +
        'and start it again (`npm run stack:down -- kafka`, then `npm run stack:up -- kafka`); its data is kept'
      );
    },
    connection: (secrets) => {
      const user = credentials(secrets);
      return {
        KAFKA_BROKERS: bootstrap,
        KAFKA_SASL_MECHANISM: kafkaSaslMechanism.toLowerCase(),
        KAFKA_SASL_USERNAME: user.username,
        KAFKA_SASL_PASSWORD: user.password,
      };
    },
  };
}

/**
 * The broker's finalized `metadata.version` (e.g. `4.1-IV1`), as its ApiVersions response reports it, read with
 * Kafka's own FeatureCommand, logged in as `user` (SASL/SCRAM-SHA-512). It names the release line the broker runs.
 */
export async function brokerMetadataVersion(
  bootstrapServer: string,
  user: KafkaCredentials,
): Promise<string> {
  // The tool's client settings, JAAS line and password included: in a folder of its own, readable by its owner,
  // removed afterwards.
  const dir = mkdtempSync(join(tmpdir(), 'tandem-kafka-client-'));
  const clientConfig = join(dir, 'client.properties');
  writePrivate(clientConfig, clientProperties(user, kafkaSaslMechanism));
  try {
    const [command, args] = java(
      'org.apache.kafka.tools.FeatureCommand',
      ['--bootstrap-server', bootstrapServer, '--command-config', clientConfig, 'describe'],
      ['-Xmx128m', '-XX:TieredStopAtLevel=1'],
    );
    const { stdout } = await run(command, args);
    const level = /Feature: metadata\.version\s.*FinalizedVersionLevel:\s*(\S+)/.exec(stdout)?.[1];
    if (!level) throw new Error(`no finalized metadata.version in FeatureCommand output: ${stdout.trim()}`);
    return level;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
