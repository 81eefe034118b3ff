/**
 * Agreement across the whole system: the services' configuration (as the manifests give it and their schemas parse
 * it) against the Kafka, RabbitMQ, store and KEDA resources it names. Each check returns problems; [] when it holds.
 */
import { readFileSync } from 'node:fs';
import {
  parseServiceConfig,
  resolveEnv,
  type ServiceContainer,
  secretPlaceholder,
  serviceContainers,
} from './env.ts';
import { find, type K8sObject, ns, ofKind, type Service, type Workload } from './manifests.ts';
import { fromRoot } from './paths.ts';

export interface Configured extends ServiceContainer {
  config: Record<string, unknown>;
  env: Record<string, string>;
  namespace: string;
}

/** Each service container with its parsed configuration (defaults applied). */
export function configured(objects: readonly K8sObject[]): Configured[] {
  return serviceContainers(objects).flatMap((sc) => {
    const namespace = ns(sc.workload);
    const { values } = resolveEnv(sc.container, objects, namespace);
    const { config } = parseServiceConfig(sc.service, values);
    return config ? [{ ...sc, config, env: values, namespace }] : [];
  });
}

const clusterHost = (name: string, namespace: string) => `${name}.${namespace}.svc.cluster.local`;

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}

/** The edge reaches the ingest through its headless Service, on the grpc port. */
export function ingestAddress(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const edge of configured(objects).filter((c) => c.service === 'edge-api')) {
    const [host, port] = splitHostPort(String(edge.config.INGEST_ADDR));
    const service = find<Service>(objects, 'Service', 'grpc-ingest', edge.namespace);
    if (host !== clusterHost('grpc-ingest', edge.namespace)) {
      problems.push(`INGEST_ADDR host ${host} is not ${clusterHost('grpc-ingest', edge.namespace)}`);
    }
    if (!service) problems.push('no Service grpc-ingest');
    else {
      if (service.spec.clusterIP !== 'None')
        problems.push('Service grpc-ingest is not headless: no round_robin over pods');
      if (!service.spec.ports.some((p) => p.port === port && p.name === 'grpc')) {
        problems.push(`Service grpc-ingest has no port ${port} named grpc`);
      }
    }
  }
  return problems;
}

interface KafkaSpec {
  kafka: {
    version?: string;
    listeners: {
      name: string;
      port: number;
      type: string;
      tls: boolean;
      authentication?: { type: string };
    }[];
    config?: Record<string, number | string>;
  };
  entityOperator?: { topicOperator?: unknown; userOperator?: unknown };
}
interface KafkaUserSpec {
  authentication?: { type: string; password?: unknown };
}
interface NodePoolSpec {
  replicas: number;
  roles: string[];
}
interface TopicSpec {
  topicName?: string;
  partitions?: number;
  replicas?: number;
  config?: Record<string, number | string>;
}

const spec = <T>(o: K8sObject) => o.spec as T;

/**
 * The Secret Strimzi's User Operator makes for a KafkaUser: named after the user (the operator's `secretPrefix` is
 * not used here), holding `password` (and `sasl.jaas.config`) for SCRAM-SHA-512.
 */
export const kafkaUserSecretKeys = ['password', 'sasl.jaas.config'];

/** The SASL mechanism (the services' KAFKA_SASL_MECHANISM) a Strimzi listener's authentication type requires. */
const listenerMechanisms: Record<string, string> = { 'scram-sha-512': 'scram-sha-512' };

/**
 * Kafka: the brokers the services name exist, the topic is there with consistent replication, and the services log
 * in as their listener requires: SASL/SCRAM-SHA-512 as a KafkaUser of that cluster, with the password from the Secret
 * the User Operator makes for it.
 */
export function kafka(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const kafkas = ofKind(objects, 'Kafka');
  const pools = ofKind(objects, 'KafkaNodePool');
  const topics = ofKind(objects, 'KafkaTopic');
  const users = ofKind(objects, 'KafkaUser');
  for (const user of users) {
    const cluster = kafkas.find((k) => k.metadata.name === user.metadata.labels?.['strimzi.io/cluster']);
    const where = `KafkaUser ${user.metadata.name}`;
    if (!cluster) problems.push(`${where}: no Kafka ${user.metadata.labels?.['strimzi.io/cluster']}`);
    else if (!spec<KafkaSpec>(cluster).entityOperator?.userOperator)
      problems.push(
        `${where}: Kafka ${cluster.metadata.name} runs no User Operator, so nothing creates the user`,
      );
  }
  for (const cluster of kafkas) {
    const s = spec<KafkaSpec>(cluster);
    const name = cluster.metadata.name;
    if (!/^4\.1\.\d+$/.test(s.kafka.version ?? ''))
      problems.push(`Kafka ${name}: version ${s.kafka.version} is not 4.1.x`);
    const mine = pools.filter((p) => p.metadata.labels?.['strimzi.io/cluster'] === name);
    const count = (role: string) =>
      mine
        .filter((p) => spec<NodePoolSpec>(p).roles.includes(role))
        .reduce((n, p) => n + spec<NodePoolSpec>(p).replicas, 0);
    const brokers = count('broker');
    const controllers = count('controller');
    if (brokers < 1) problems.push(`Kafka ${name}: no broker in its node pools`);
    if (controllers < 1 || controllers % 2 === 0) {
      problems.push(`Kafka ${name}: ${controllers} KRaft controllers (needs an odd number, for a majority)`);
    }
    const config = s.kafka.config ?? {};
    const num = (key: string, fallback: number) => Number(config[key] ?? fallback);
    for (const key of [
      'default.replication.factor',
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
    ]) {
      if (num(key, 1) > brokers) problems.push(`Kafka ${name}: ${key} ${num(key, 1)} > ${brokers} brokers`);
    }
    if (num('min.insync.replicas', 1) > num('default.replication.factor', 1)) {
      problems.push(`Kafka ${name}: min.insync.replicas above default.replication.factor`);
    }
    if (num('transaction.state.log.min.isr', 1) > num('transaction.state.log.replication.factor', 1)) {
      problems.push(`Kafka ${name}: transaction.state.log.min.isr above its replication factor`);
    }
    for (const topic of topics.filter((t) => t.metadata.labels?.['strimzi.io/cluster'] === name)) {
      const t = spec<TopicSpec>(topic);
      const replicas = t.replicas ?? num('default.replication.factor', 1);
      const minIsr = Number(t.config?.['min.insync.replicas'] ?? num('min.insync.replicas', 1));
      const where = `KafkaTopic ${topic.metadata.name}`;
      if (replicas > brokers) problems.push(`${where}: ${replicas} replicas > ${brokers} brokers`);
      if (minIsr < 1 || minIsr > replicas)
        problems.push(`${where}: min.insync.replicas ${minIsr} not in 1..${replicas}`);
      // With acks=all, min.insync = replicas would stop every write when one broker is down.
      if (replicas >= 3 && minIsr > replicas - 1)
        problems.push(`${where}: min.insync.replicas leaves no broker to lose`);
    }
  }
  for (const topic of topics) {
    const cluster = topic.metadata.labels?.['strimzi.io/cluster'];
    if (!kafkas.some((k) => k.metadata.name === cluster))
      problems.push(`KafkaTopic ${topic.metadata.name}: no Kafka ${cluster}`);
  }
  for (const pool of pools) {
    const cluster = pool.metadata.labels?.['strimzi.io/cluster'];
    if (!kafkas.some((k) => k.metadata.name === cluster))
      problems.push(`KafkaNodePool ${pool.metadata.name}: no Kafka ${cluster}`);
  }
  for (const c of configured(objects).filter((c) => 'KAFKA_BROKERS' in c.config)) {
    const where = `${c.service} KAFKA_BROKERS`;
    for (const address of c.config.KAFKA_BROKERS as string[]) {
      const [host, port] = splitHostPort(address);
      const cluster = kafkas.find((k) => host === clusterHost(`${k.metadata.name}-kafka-bootstrap`, ns(k)));
      if (!cluster) {
        problems.push(`${where}: ${host} is no Kafka's bootstrap Service`);
        continue;
      }
      const listener = spec<KafkaSpec>(cluster).kafka.listeners.find((l) => l.port === port);
      if (!listener) problems.push(`${where}: Kafka ${cluster.metadata.name} has no listener on ${port}`);
      else if (listener.tls)
        problems.push(`${where}: listener ${listener.name} wants TLS, which the services do not do`);
      else problems.push(...kafkaLogin(c, cluster, listener.name, listener.authentication?.type, users));
    }
    const topicName = String(c.config.KAFKA_TOPIC);
    const topic = topics.find((t) => (spec<TopicSpec>(t).topicName ?? t.metadata.name) === topicName);
    if (kafkas.length > 0 && !topic)
      problems.push(`${c.service}: no KafkaTopic for KAFKA_TOPIC ${topicName}`);
    if (
      topic &&
      'KAFKA_PARTITIONS' in c.config &&
      spec<TopicSpec>(topic).partitions !== c.config.KAFKA_PARTITIONS
    ) {
      problems.push(
        `${c.service}: KAFKA_PARTITIONS ${c.config.KAFKA_PARTITIONS} differs from the KafkaTopic's partitions`,
      );
    }
  }
  return problems;
}

/** A service's Kafka login (KAFKA_SASL_*) against what its listener requires. */
function kafkaLogin(
  c: Configured,
  cluster: K8sObject,
  listener: string,
  authentication: string | undefined,
  users: readonly K8sObject[],
): string[] {
  const where = `${c.service} (listener ${listener} of Kafka ${cluster.metadata.name})`;
  const username = c.config.KAFKA_SASL_USERNAME as string | undefined;
  if (authentication === undefined) {
    return username === undefined
      ? []
      : [`${where}: logs in as ${username}, but the listener takes no login`];
  }
  const mechanism = listenerMechanisms[authentication];
  if (!mechanism) return [`${where}: authentication ${authentication}, which the services do not do`];
  if (username === undefined)
    return [
      `${where}: requires SASL ${mechanism}, but KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are not set`,
    ];
  const problems: string[] = [];
  if (c.config.KAFKA_SASL_MECHANISM !== mechanism)
    problems.push(`${where}: KAFKA_SASL_MECHANISM ${c.config.KAFKA_SASL_MECHANISM} is not ${mechanism}`);
  const user = users.find(
    (u) =>
      u.metadata.name === username &&
      ns(u) === ns(cluster) &&
      u.metadata.labels?.['strimzi.io/cluster'] === cluster.metadata.name,
  );
  if (!user) return [...problems, `${where}: no KafkaUser ${username} of this cluster`];
  if (spec<KafkaUserSpec>(user).authentication?.type !== authentication)
    problems.push(`${where}: KafkaUser ${username} does not authenticate with ${authentication}`);
  // The User Operator keeps the password in the Secret named after the user.
  if (c.env.KAFKA_SASL_PASSWORD !== secretPlaceholder(username, 'password'))
    problems.push(
      `${where}: KAFKA_SASL_PASSWORD is not the Secret ${username}/password of KafkaUser ${username}`,
    );
  return problems;
}

interface QueueSpec {
  name: string;
  vhost?: string;
  type?: string;
  durable?: boolean;
  autoDelete?: boolean;
  rabbitmqClusterReference: { name: string };
}
interface UserSpec {
  importCredentialsSecret?: { name: string };
  rabbitmqClusterReference: { name: string };
}
interface PermissionSpec {
  vhost: string;
  user?: string;
  userReference?: { name: string };
  permissions: { configure?: string; write?: string; read?: string };
  rabbitmqClusterReference: { name: string };
}

/** RabbitMQ: the cluster, the quorum queue, the user and its permissions agree with RABBITMQ_URL / RABBITMQ_QUEUE. */
export function rabbitmq(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const clusters = ofKind(objects, 'RabbitmqCluster');
  const queues = ofKind(objects, 'Queue');
  const users = ofKind(objects, 'User');
  const permissions = ofKind(objects, 'Permission');
  for (const cluster of clusters) {
    const replicas = (cluster.spec as { replicas?: number }).replicas ?? 1;
    if (replicas % 2 === 0)
      problems.push(
        `RabbitmqCluster ${cluster.metadata.name}: ${replicas} nodes (quorum queues need an odd number)`,
      );
  }
  for (const o of [...queues, ...users, ...permissions]) {
    const ref = (o.spec as { rabbitmqClusterReference: { name: string } }).rabbitmqClusterReference.name;
    if (!clusters.some((c) => c.metadata.name === ref))
      problems.push(`${o.kind} ${o.metadata.name}: no RabbitmqCluster ${ref}`);
  }
  for (const permission of permissions) {
    const p = spec<PermissionSpec>(permission);
    if (p.userReference && !users.some((u) => u.metadata.name === p.userReference?.name)) {
      problems.push(`Permission ${permission.metadata.name}: no User ${p.userReference.name}`);
    }
  }
  for (const c of configured(objects).filter((c) => 'RABBITMQ_URL' in c.config)) {
    const where = `${c.service} RABBITMQ_URL`;
    const url = new URL(String(c.config.RABBITMQ_URL));
    const vhost = url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : '/';
    const cluster = clusters.find((k) => url.hostname === clusterHost(k.metadata.name, ns(k)));
    if (clusters.length > 0 && !cluster)
      problems.push(`${where}: ${url.hostname} is no RabbitmqCluster's Service`);
    if (url.port !== '5672') problems.push(`${where}: port ${url.port || '(default)'} is not amqp 5672`);
    const queueName = String(c.config.RABBITMQ_QUEUE);
    const queue = queues.find((q) => spec<QueueSpec>(q).name === queueName);
    if (clusters.length > 0) {
      if (!queue) problems.push(`${c.service}: no Queue ${queueName}`);
      else {
        const q = spec<QueueSpec>(queue);
        // The services declare it durable and of type quorum; RabbitMQ refuses a redeclaration of another kind.
        if (q.type !== 'quorum')
          problems.push(`Queue ${queueName}: type ${q.type} (the services declare quorum)`);
        if (q.durable !== true)
          problems.push(`Queue ${queueName}: not durable (the services declare it durable)`);
        if (q.autoDelete === true) problems.push(`Queue ${queueName}: autoDelete`);
        if ((q.vhost ?? '/') !== vhost)
          problems.push(`Queue ${queueName}: vhost ${q.vhost} is not the URL's ${vhost}`);
      }
      // The URL's credentials are the Secret the User imports.
      const user = users.find((u) => {
        const secret = spec<UserSpec>(u).importCredentialsSecret?.name ?? '';
        return (
          decodeURIComponent(url.username) === secretPlaceholder(secret, 'username') &&
          decodeURIComponent(url.password) === secretPlaceholder(secret, 'password')
        );
      });
      if (!user) problems.push(`${where}: its user and password are not the Secret a User imports`);
      const granted = permissions.filter(
        (p) =>
          spec<PermissionSpec>(p).userReference?.name === user?.metadata.name &&
          spec<PermissionSpec>(p).vhost === vhost,
      );
      const allows = (kind: 'configure' | 'write' | 'read', resource: string) =>
        granted.some((p) => new RegExp(spec<PermissionSpec>(p).permissions[kind] ?? '^$').test(resource));
      if (user) {
        for (const kind of ['configure', 'write', 'read'] as const) {
          if (!allows(kind, queueName))
            problems.push(`User ${user.metadata.name}: no ${kind} permission on ${queueName}`);
        }
        // Publishing with sendToQueue goes through the default exchange.
        if (!allows('write', 'amq.default'))
          problems.push(`User ${user.metadata.name}: cannot write to amq.default`);
      }
    }
  }
  return problems;
}

/**
 * Redis and Valkey: the URL names the user `default` (the empty-user form `redis://:<password>@` makes redis-cli 7.0
 * send `AUTH "" <password>`, which the server refuses), its host is the store's Service and its password the Secret
 * the server requires.
 */
export function stores(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const pairs: [string, string][] = [
    ['REDIS_URL', 'redis'],
    ['VALKEY_URL', 'valkey'],
  ];
  for (const c of configured(objects)) {
    for (const [variable, store] of pairs) {
      if (!(variable in c.config)) continue;
      const url = new URL(String(c.config[variable]));
      const where = `${c.service} ${variable}`;
      if (url.protocol !== 'redis:')
        problems.push(`${where}: the redis:// scheme for both stores (docs/architecture.md)`);
      const user = decodeURIComponent(url.username);
      if (user !== 'default') {
        problems.push(
          user === ''
            ? `${where}: names no user: name \`default\` (redis://default:<password>@…); redis-cli 7.0 refuses an empty one`
            : `${where}: user ${user} is not \`default\`, the only user --requirepass gives a password`,
        );
      }
      if (url.hostname !== clusterHost(store, c.namespace))
        problems.push(`${where}: host is not the Service ${store}`);
      const service = find<Service>(objects, 'Service', store, c.namespace);
      if (!service?.spec.ports.some((p) => String(p.port) === url.port))
        problems.push(`${where}: Service ${store} has no port ${url.port}`);
      const server = find<Workload>(objects, 'StatefulSet', store, c.namespace);
      const container = server?.spec.template.spec.containers[0];
      if (!server || !container) {
        problems.push(`${where}: no StatefulSet ${store}`);
        continue;
      }
      const command = [...(container.command ?? []), ...(container.args ?? [])];
      const passwordVariable = /^\$\((\w+)\)$/.exec(command[command.indexOf('--requirepass') + 1] ?? '')?.[1];
      const ref = container.env?.find((e) => e.name === passwordVariable)?.valueFrom?.secretKeyRef;
      if (!ref) problems.push(`StatefulSet ${store}: no --requirepass from a Secret`);
      else if (decodeURIComponent(url.password) !== secretPlaceholder(ref.name, ref.key)) {
        problems.push(`${where}: its password is not the Secret ${ref.name}/${ref.key} the server requires`);
      }
      const configMap = server.spec.template.spec.volumes?.find((v) => v.configMap)?.configMap?.name;
      const conf = Object.values(find(objects, 'ConfigMap', configMap ?? '', c.namespace)?.data ?? {}).join(
        '\n',
      );
      for (const line of ['appendonly yes', 'maxmemory-policy noeviction']) {
        if (!new RegExp(`^${line}$`, 'm').test(conf))
          problems.push(`StatefulSet ${store}: its configuration lacks "${line}"`);
      }
      if ((server.spec.volumeClaimTemplates ?? []).length === 0)
        problems.push(`StatefulSet ${store}: no PersistentVolumeClaim`);
    }
  }
  return problems;
}

interface Trigger {
  type: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string; kind?: string };
}
interface TriggerAuthenticationSpec {
  env?: { parameter: string; name: string; containerName?: string }[];
  secretTargetRef?: { parameter: string; name: string; key: string }[];
}

/** KEDA's Kafka scaler's name for a SASL mechanism (its `sasl` parameter). */
const kedaSasl: Record<string, string> = { 'scram-sha-512': 'scram_sha512', 'scram-sha-256': 'scram_sha256' };

/**
 * A Kafka trigger logs in as its consumer does: `sasl` for the consumer's KAFKA_SASL_MECHANISM, and a
 * TriggerAuthentication whose username and password are the consumer container's own variables.
 */
function kedaKafkaLogin(
  objects: readonly K8sObject[],
  where: string,
  trigger: Trigger,
  target: Configured,
): string[] {
  const username = target.config.KAFKA_SASL_USERNAME as string | undefined;
  if (username === undefined) {
    return trigger.metadata.sasl || trigger.authenticationRef
      ? [`${where}: logs in to Kafka, but the consumer does not`]
      : [];
  }
  const problems: string[] = [];
  const sasl = kedaSasl[String(target.config.KAFKA_SASL_MECHANISM)];
  if (trigger.metadata.sasl !== sasl)
    problems.push(
      `${where}: sasl ${trigger.metadata.sasl} is not ${sasl}, the consumer's KAFKA_SASL_MECHANISM`,
    );
  const ref = trigger.authenticationRef;
  const auth =
    ref && (ref.kind ?? 'TriggerAuthentication') === 'TriggerAuthentication'
      ? find(objects, 'TriggerAuthentication', ref.name, target.namespace)
      : undefined;
  if (!auth) return [...problems, `${where}: no TriggerAuthentication for the Kafka login`];
  const entries = spec<TriggerAuthenticationSpec>(auth).env ?? [];
  for (const [parameter, variable] of [
    ['username', 'KAFKA_SASL_USERNAME'],
    ['password', 'KAFKA_SASL_PASSWORD'],
  ] as const) {
    const entry = entries.find((e) => e.parameter === parameter);
    if (entry?.name !== variable || (entry.containerName ?? target.container.name) !== target.container.name)
      problems.push(
        `${where}: TriggerAuthentication ${ref?.name} does not take ${parameter} from the consumer's ${variable}`,
      );
  }
  return problems;
}
interface ScaledObjectSpec {
  scaleTargetRef: { name: string };
  minReplicaCount?: number;
  maxReplicaCount?: number;
  triggers: Trigger[];
}

/** KEDA: the triggers watch what the consumers consume; the Kafka side never has more replicas than partitions. */
export function keda(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const services = configured(objects);
  for (const scaled of ofKind(objects, 'ScaledObject')) {
    const s = spec<ScaledObjectSpec>(scaled);
    const where = `ScaledObject ${scaled.metadata.name}`;
    // The CRD's CEL rule, which the schema validation does not evaluate.
    if ((s.minReplicaCount ?? 0) > (s.maxReplicaCount ?? 100))
      problems.push(`${where}: minReplicaCount > maxReplicaCount`);
    const target = services.find(
      (c) => c.workload.metadata.name === s.scaleTargetRef.name && c.namespace === ns(scaled),
    );
    if (!target) {
      problems.push(`${where}: its target runs none of the services`);
      continue;
    }
    for (const trigger of s.triggers) {
      const m = trigger.metadata;
      if (trigger.type === 'kafka') {
        const expected = {
          bootstrapServers: (target.config.KAFKA_BROKERS as string[] | undefined)?.join(','),
          consumerGroup: target.config.KAFKA_GROUP,
          topic: target.config.KAFKA_TOPIC,
        };
        for (const [key, value] of Object.entries(expected)) {
          if (m[key] !== value) problems.push(`${where}: ${key} ${m[key]} is not the consumer's ${value}`);
        }
        const topic = ofKind(objects, 'KafkaTopic').find(
          (t) => (spec<TopicSpec>(t).topicName ?? t.metadata.name) === m.topic,
        );
        const partitions = topic ? spec<TopicSpec>(topic).partitions : undefined;
        if (partitions !== undefined && (s.maxReplicaCount ?? 100) > partitions) {
          problems.push(
            `${where}: maxReplicaCount ${s.maxReplicaCount} > ${partitions} partitions (the rest would idle)`,
          );
        }
        if (!/^\d+$/.test(m.lagThreshold ?? '')) problems.push(`${where}: lagThreshold is not a number`);
        problems.push(...kedaKafkaLogin(objects, where, trigger, target));
      } else if (trigger.type === 'rabbitmq') {
        if (m.queueName !== target.config.RABBITMQ_QUEUE)
          problems.push(`${where}: queueName is not RABBITMQ_QUEUE`);
        if (m.hostFromEnv && !(m.hostFromEnv in target.env))
          problems.push(`${where}: hostFromEnv ${m.hostFromEnv} is not set`);
        if (!m.hostFromEnv && !m.host) problems.push(`${where}: no host`);
        if (!/^\d+$/.test(m.value ?? '')) problems.push(`${where}: value is not a number`);
      } else {
        problems.push(`${where}: unexpected trigger ${trigger.type}`);
      }
    }
  }
  return problems;
}

interface IngressSpec {
  rules: {
    http: {
      paths: {
        path: string;
        pathType: string;
        backend: { service: { name: string; port: { name?: string } } };
      }[];
    };
  }[];
}

/** Only POST /input and /input/batch are exposed, to the edge's named http port. */
export function ingress(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const ing of ofKind(objects, 'Ingress')) {
    const paths = spec<IngressSpec>(ing).rules.flatMap((r) => r.http.paths);
    const exposed = paths.map((p) => p.path).sort();
    if (JSON.stringify(exposed) !== JSON.stringify(['/input', '/input/batch'])) {
      problems.push(
        `Ingress ${ing.metadata.name}: exposes ${exposed.join(', ')}, not exactly /input and /input/batch`,
      );
    }
    for (const p of paths) {
      const service = find<Service>(objects, 'Service', p.backend.service.name, ns(ing));
      if (!service?.spec.ports.some((port) => port.name === p.backend.service.port.name)) {
        problems.push(
          `Ingress ${ing.metadata.name}: ${p.path} → ${p.backend.service.name}:${p.backend.service.port.name} does not exist`,
        );
      }
    }
  }
  return problems;
}

export interface SecretSource {
  name: string;
  keys: string[];
  /** Made only with `secrets.sh --kafka-user`. */
  kafkaUserOption?: boolean;
}

/**
 * The Secrets k8s/secrets.sh creates, from its `ensure NAME KEY[=VALUE]...` lines; those of its
 * `if [[ $kafka_user == yes ]]` block (option --kafka-user) are marked: they stand in for Strimzi's User Operator.
 */
export function secretsScript(text = readFileSync(fromRoot('k8s', 'secrets.sh'), 'utf8')): SecretSource[] {
  const kafkaUserBlock = /^if \[\[ \$kafka_user == yes \]\]; then\n([\s\S]*?)^fi$/m.exec(text);
  const entries = (part: string, kafkaUserOption: boolean) =>
    [...part.matchAll(/^\s*ensure ([a-z0-9-]+) (.+)$/gm)].map((m) => ({
      name: m[1] as string,
      keys: (m[2] as string).split(/\s+/).map((pair) => pair.split('=')[0] as string),
      ...(kafkaUserOption ? { kafkaUserOption } : {}),
    }));
  const rest = kafkaUserBlock ? text.replace(kafkaUserBlock[0], '') : text;
  return [...entries(rest, false), ...entries(kafkaUserBlock?.[1] ?? '', true)];
}

/**
 * Every Secret the manifests read (secretKeyRef, a User's imported credentials) is made by k8s/secrets.sh, or by
 * Strimzi's User Operator for a SCRAM KafkaUser of the build (named after the user).
 */
export function secretSources(objects: readonly K8sObject[], allSources = secretsScript()): string[] {
  const problems: string[] = [];
  // The script's --kafka-user Secrets are for a Kafka without Strimzi: with a Kafka resource, its User Operator
  // makes them.
  const strimzi = objects.some((o) => o.kind === 'Kafka');
  const sources = allSources.filter((s) => !(strimzi && s.kafkaUserOption));
  const kafkaUsers = ofKind(objects, 'KafkaUser')
    .filter((u) => spec<KafkaUserSpec>(u).authentication?.type === 'scram-sha-512')
    .map((u) => ({ name: u.metadata.name, keys: kafkaUserSecretKeys }));
  const has = (name: string, key: string) =>
    [...sources, ...kafkaUsers].some((s) => s.name === name && s.keys.includes(key));
  for (const w of objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    for (const c of w.spec.template.spec.containers) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !has(ref.name, ref.key))
          problems.push(
            `${w.kind}/${w.metadata.name}: Secret ${ref.name}/${ref.key} is not made by k8s/secrets.sh (nor for a KafkaUser)`,
          );
      }
    }
  }
  for (const user of ofKind(objects, 'User')) {
    const secret = spec<UserSpec>(user).importCredentialsSecret?.name;
    if (secret && !(has(secret, 'username') && has(secret, 'password'))) {
      problems.push(
        `User ${user.metadata.name}: Secret ${secret} (username, password) is not made by k8s/secrets.sh`,
      );
    }
  }
  return problems;
}

export const consistencyRules = {
  ingestAddress,
  kafka,
  rabbitmq,
  stores,
  keda,
  ingress,
  secretSources: (objects: readonly K8sObject[]) => secretSources(objects),
} satisfies Record<string, (objects: readonly K8sObject[]) => string[]>;
