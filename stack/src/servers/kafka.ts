/**
 * Apache Kafka in KRaft mode, one process as both broker and controller, run from the jars Maven fetched
 * (`java -cp 'lib/*' kafka.Kafka server.properties`). Settings are the single-node ones: replication factor 1
 * and min ISR 1 for the internal topics, no initial rebalance delay, a modest heap.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaJarsDir, kafkaVersion } from '../install.ts';
import { type StackLocation, serverDir } from '../paths.ts';
import { run, StackError, startDetached } from '../processes.ts';
import type { LocalServer } from './types.ts';

const heap = ['-Xms256m', '-Xmx768m'];

function java(
  mainClass: string,
  args: readonly string[],
  jvm: readonly string[] = [],
  log4j?: string,
): [string, string[]] {
  return [
    'java',
    [
      ...jvm,
      ...(log4j ? [`-Dlog4j2.configurationFile=${log4j}`] : []),
      '-cp',
      `${kafkaJarsDir()}/*`,
      mainClass,
      ...args,
    ],
  ];
}

export function kafka(location: StackLocation): LocalServer {
  const kafkaPort = 9092 + location.portOffset;
  const controllerPort = 9093 + location.portOffset;
  const dirs = serverDir(location, 'kafka');
  const configFile = join(dirs.root, 'server.properties');
  const log4jFile = join(dirs.root, 'log4j2.properties');
  const clusterIdFile = join(dirs.root, 'cluster-id');

  const writeConfig = (): void => {
    mkdirSync(dirs.data, { recursive: true });
    writeFileSync(
      configFile,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
        `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
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

  /** Formats the log directory once, with a cluster id kept beside it. */
  const formatStorage = async (): Promise<void> => {
    if (existsSync(join(dirs.data, 'meta.properties'))) return;
    if (!existsSync(clusterIdFile)) writeFileSync(clusterIdFile, randomBytes(16).toString('base64url'));
    const clusterId = readFileSync(clusterIdFile, 'utf8').trim();
    const [command, args] = java(
      'kafka.tools.StorageTool',
      ['format', '-t', clusterId, '-c', configFile],
      [],
      log4jFile,
    );
    try {
      await run(command, args);
    } catch (error) {
      throw new StackError(
        `formatting Kafka's storage failed: ${(error as { stdout?: string }).stdout ?? error}`,
      );
    }
  };

  return {
    name: 'kafka',
    ports: [kafkaPort, controllerPort],
    startTimeoutMs: 90_000,
    async start() {
      writeConfig();
      await formatStorage();
      const [command, args] = java(
        'kafka.Kafka',
        [configFile],
        [...heap, '-XX:+UseG1GC', '-Djava.awt.headless=true'],
        log4jFile,
      );
      return startDetached(command, args, { pidFile: dirs.pid, logFile: dirs.log });
    },
    async probe() {
      const admin = new Kafka({
        clientId: 'tandem-stack',
        brokers: [`127.0.0.1:${kafkaPort}`],
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
      return `Kafka ${kafkaVersion()} (metadata.version ${await brokerMetadataVersion(`127.0.0.1:${kafkaPort}`)})`;
    },
    connection: () => ['KAFKA_BROKERS', `127.0.0.1:${kafkaPort}`],
  };
}

/**
 * The broker's finalized `metadata.version` (e.g. `4.1-IV1`), as its ApiVersions response reports it, read with
 * Kafka's own FeatureCommand. It names the release line the broker runs.
 */
export async function brokerMetadataVersion(bootstrapServer: string): Promise<string> {
  const [command, args] = java(
    'org.apache.kafka.tools.FeatureCommand',
    ['--bootstrap-server', bootstrapServer, 'describe'],
    ['-Xmx128m', '-XX:TieredStopAtLevel=1'],
  );
  const { stdout } = await run(command, args);
  const level = /Feature: metadata\.version\s.*FinalizedVersionLevel:\s*(\S+)/.exec(stdout)?.[1];
  if (!level) throw new Error(`no finalized metadata.version in FeatureCommand output: ${stdout.trim()}`);
  return level;
}
