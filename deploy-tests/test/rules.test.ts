/**
 * Every rule must fail when it is broken: each case breaks one thing in a copy of a real build (or file) and expects
 * the rule to name it. Without these, a rule that always answers [] would pass everything.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rendered } from '../src/combinations.ts';
import * as consistency from '../src/consistency.ts';
import { CrdValidator } from '../src/crds.ts';
import { inImage, readImage } from '../src/dockerfile.ts';
import { serviceEnv } from '../src/env.ts';
import { type Dashboard, dashboardProblems, readDashboards, readDatasources } from '../src/grafana.ts';
import { deepClone, find, type K8sObject, type Workload } from '../src/manifests.ts';
import { fromRoot } from '../src/paths.ts';
import * as rules from '../src/rules.ts';
import { scanText } from '../src/secret-scan.ts';

const system = () => deepClone([...rendered('k8s/overlays/full')]);

/** A copy of the full build with `change` applied to one object. */
function broken(kind: string, name: string, change: (o: K8sObject & { spec: never }) => void): K8sObject[] {
  const objects = system();
  const target = find(objects, kind, name);
  if (!target) throw new Error(`no ${kind}/${name} in the build`);
  change(target as K8sObject & { spec: never });
  return objects;
}

// biome-ignore lint/suspicious/noExplicitAny: the cases reach into arbitrary fields of the objects they break
type Any = any;
const pod = (o: Any) => o.spec.template.spec;
const first = (o: Any) => o.spec.template.spec.containers[0];
const envOf = (o: Any, name: string) => first(o).env.find((e: Any) => e.name === name);

describe('the rules hold on the real build', () => {
  it('full overlay', () => {
    const objects = system();
    for (const rule of [
      ...Object.values(rules.conventionRules),
      ...Object.values(consistency.consistencyRules),
      serviceEnv,
    ]) {
      expect(rule(objects)).toEqual([]);
    }
  });
});

type Case = [string, (objects: K8sObject[]) => string[], () => K8sObject[], RegExp];

const without = (kind: string, name: string) => () =>
  system().filter((o) => !(o.kind === kind && o.metadata.name === name));

const cases: Case[] = [
  [
    'a namespace without the default deny',
    rules.networkPolicies,
    without('NetworkPolicy', 'default-deny'),
    /namespace tandem: no default-deny NetworkPolicy/,
  ],
  [
    'a default deny that lets something through',
    rules.networkPolicies,
    () =>
      broken('NetworkPolicy', 'default-deny', (o: Any) => {
        o.spec.egress = [{}];
      }),
    /no default-deny NetworkPolicy/,
  ],
  [
    'pods that may not ask DNS',
    rules.networkPolicies,
    without('NetworkPolicy', 'dns'),
    /no NetworkPolicy lets every pod ask DNS/,
  ],
  [
    'a workload without a policy of its own',
    rules.networkPolicies,
    without('NetworkPolicy', 'rabbit-consumer'),
    /Deployment\/rabbit-consumer: no NetworkPolicy of its own/,
  ],
  [
    'a Service selecting no pods',
    rules.appLabels,
    () =>
      broken('Service', 'edge-api', (o: Any) => {
        o.spec.selector.app = 'edge';
      }),
    /selects app=edge-api|matches no pod/,
  ],
  [
    'a pod label differing from app',
    rules.appLabels,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        o.spec.template.metadata.labels.app = 'kc';
      }),
    /pod template's app label/,
  ],
  [
    'an unnamed container port',
    rules.namedPorts,
    () =>
      broken('Deployment', 'grpc-ingest', (o: Any) => {
        delete first(o).ports[1].name;
      }),
    /port 9464 has no name/,
  ],
  [
    'a probe on a port number',
    rules.namedPorts,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        first(o).livenessProbe.httpGet.port = 8080;
      }),
    /livenessProbe uses a port number/,
  ],
  [
    'a Service targeting a port number',
    rules.namedPorts,
    () =>
      broken('Service', 'valkey', (o: Any) => {
        o.spec.ports[0].targetPort = 6379;
      }),
    /targets a number/,
  ],
  [
    'no readiness probe',
    rules.probes,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        delete first(o).readinessProbe;
      }),
    /kafka-consumer: no readinessProbe/,
  ],
  [
    'no memory limit',
    rules.resources,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        delete first(o).resources.limits.memory;
      }),
    /no limits.memory/,
  ],
  [
    'a writable root filesystem',
    rules.securityContext,
    () =>
      broken('Deployment', 'grpc-ingest', (o: Any) => {
        first(o).securityContext.readOnlyRootFilesystem = false;
      }),
    /not read-only/,
  ],
  [
    'capabilities kept',
    rules.securityContext,
    () =>
      broken('StatefulSet', 'redis', (o: Any) => {
        first(o).securityContext.capabilities.drop = ['NET_RAW'];
      }),
    /do not drop ALL/,
  ],
  [
    'no seccomp profile',
    rules.securityContext,
    () =>
      broken('Deployment', 'rabbit-consumer', (o: Any) => {
        delete pod(o).securityContext.seccompProfile;
      }),
    /seccompProfile/,
  ],
  [
    'root allowed',
    rules.securityContext,
    () =>
      broken('Deployment', 'grafana', (o: Any) => {
        delete pod(o).securityContext.runAsNonRoot;
      }),
    /not runAsNonRoot/,
  ],
  [
    'an image at latest',
    rules.imageTags,
    () =>
      broken('StatefulSet', 'valkey', (o: Any) => {
        first(o).image = 'valkey/valkey:latest';
      }),
    /uses latest/,
  ],
  [
    'an untagged image',
    rules.imageTags,
    () =>
      broken('Deployment', 'prometheus', (o: Any) => {
        first(o).image = 'prom/prometheus';
      }),
    /has no tag/,
  ],
  [
    'a short grace period',
    rules.gracePeriods,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        pod(o).terminationGracePeriodSeconds = 10;
      }),
    /below 30/,
  ],
  [
    'a missing ServiceAccount',
    rules.serviceAccounts,
    () => system().filter((o) => !(o.kind === 'ServiceAccount' && o.metadata.name === 'edge-api')),
    /ServiceAccount edge-api missing/,
  ],
  [
    'a StatefulSet without headless Service',
    rules.serviceAccounts,
    () =>
      broken('StatefulSet', 'redis', (o: Any) => {
        o.spec.serviceName = 'redis';
      }),
    /not a headless Service/,
  ],
  [
    'replicas on an autoscaled Deployment',
    rules.autoscaling,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        o.spec.replicas = 3;
      }),
    /sets replicas/,
  ],
  [
    'a scrape port that is no container port',
    rules.scrapeAnnotations,
    () =>
      broken('Deployment', 'grpc-ingest', (o: Any) => {
        o.spec.template.metadata.annotations['prometheus.io/port'] = '9999';
      }),
    /9999 is not a container port/,
  ],
  [
    'a Secret with a value',
    rules.noSecretValues,
    () => [
      ...system(),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'redis' }, data: { password: 'aHVudGVyMg==' } },
    ],
    /Secret\/redis: holds values/,
  ],
  [
    'a variable the service does not read',
    serviceEnv,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        first(o).env.push({ name: 'KAFKA_BROKERS', value: 'x:1' });
      }),
    /KAFKA_BROKERS is not a variable of edge-api/,
  ],
  [
    'envFrom',
    serviceEnv,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        first(o).envFrom = [{ configMapRef: { name: 'x' } }];
      }),
    /envFrom/,
  ],
  [
    'a value the schema refuses',
    serviceEnv,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        envOf(o, 'INGEST_ADDR').valueFrom = undefined;
        envOf(o, 'INGEST_ADDR').value = 'dns:///grpc-ingest:50051';
      }),
    /INGEST_ADDR: must be host:port/,
  ],
  [
    'a required variable missing',
    serviceEnv,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        first(o).env = first(o).env.filter((e: Any) => e.name !== 'REDIS_URL' && e.name !== 'REDIS_PASSWORD');
      }),
    /REDIS_URL: required/,
  ],
  [
    'a port that disagrees with PORT',
    serviceEnv,
    () =>
      broken('Deployment', 'edge-api', (o: Any) => {
        first(o).ports[0].containerPort = 8081;
      }),
    /port http is 8081 but PORT is 8080/,
  ],
  [
    'a missing ConfigMap key',
    serviceEnv,
    () =>
      broken('Deployment', 'grpc-ingest', (o: Any) => {
        envOf(o, 'KAFKA_TOPIC').valueFrom.configMapKeyRef.key = 'TOPIC';
      }),
    /has no key TOPIC/,
  ],
  [
    'a reference to a later variable',
    serviceEnv,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        first(o).env.reverse();
      }),
    /not defined before it/,
  ],
  [
    'an ingest Service with a cluster IP',
    consistency.ingestAddress,
    () =>
      broken('Service', 'grpc-ingest', (o: Any) => {
        delete o.spec.clusterIP;
      }),
    /not headless/,
  ],
  [
    'partitions that differ from KAFKA_PARTITIONS',
    consistency.kafka,
    () =>
      broken('KafkaTopic', 'message', (o: Any) => {
        o.spec.partitions = 5;
      }),
    /KAFKA_PARTITIONS 6 differs/,
  ],
  [
    'min.insync.replicas equal to the replicas',
    consistency.kafka,
    () =>
      broken('KafkaTopic', 'message', (o: Any) => {
        o.spec.config['min.insync.replicas'] = 3;
      }),
    /no broker to lose/,
  ],
  [
    'an even number of controllers',
    consistency.kafka,
    () =>
      broken('KafkaNodePool', 'combined', (o: Any) => {
        o.spec.replicas = 2;
      }),
    /2 KRaft controllers/,
  ],
  [
    'brokers the services do not name',
    consistency.kafka,
    () =>
      broken('Kafka', 'tandem', (o: Any) => {
        o.metadata.name = 'kafka';
      }),
    /no Kafka's bootstrap Service/,
  ],
  [
    'Kafka 4.0',
    consistency.kafka,
    () =>
      broken('Kafka', 'tandem', (o: Any) => {
        o.spec.kafka.version = '4.0.0';
      }),
    /not 4.1.x/,
  ],
  [
    'services that do not log in to a SCRAM listener',
    consistency.kafka,
    () =>
      broken('Deployment', 'grpc-ingest', (o: Any) => {
        first(o).env = first(o).env.filter((e: Any) => !e.name.startsWith('KAFKA_SASL_'));
      }),
    /grpc-ingest \(listener scram of Kafka tandem\): requires SASL scram-sha-512/,
  ],
  [
    'a login to a listener that takes none',
    consistency.kafka,
    () =>
      broken('Kafka', 'tandem', (o: Any) => {
        delete o.spec.kafka.listeners[0].authentication;
      }),
    /logs in as tandem, but the listener takes no login/,
  ],
  [
    'a TLS listener',
    consistency.kafka,
    () =>
      broken('Kafka', 'tandem', (o: Any) => {
        o.spec.kafka.listeners[0].tls = true;
      }),
    /listener scram wants TLS/,
  ],
  [
    'a Kafka password from another Secret',
    consistency.kafka,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        envOf(o, 'KAFKA_SASL_PASSWORD').valueFrom.secretKeyRef.name = 'redis';
      }),
    /kafka-consumer .*KAFKA_SASL_PASSWORD is not the Secret tandem\/password of KafkaUser tandem/,
  ],
  [
    'a Kafka user name that is no KafkaUser',
    consistency.kafka,
    () =>
      broken('KafkaUser', 'tandem', (o: Any) => {
        o.metadata.name = 'someone';
      }),
    /no KafkaUser tandem of this cluster/,
  ],
  [
    'a KafkaUser without a User Operator to make it',
    consistency.kafka,
    () =>
      broken('Kafka', 'tandem', (o: Any) => {
        delete o.spec.entityOperator.userOperator;
      }),
    /KafkaUser tandem: Kafka tandem runs no User Operator/,
  ],
  [
    'a classic queue',
    consistency.rabbitmq,
    () =>
      broken('Queue', 'message', (o: Any) => {
        o.spec.type = 'classic';
      }),
    /type classic/,
  ],
  [
    'a user from another Secret',
    consistency.rabbitmq,
    () =>
      broken('User', 'tandem', (o: Any) => {
        o.spec.importCredentialsSecret.name = 'other';
      }),
    /not the Secret a User imports/,
  ],
  [
    'no write on the default exchange',
    consistency.rabbitmq,
    () =>
      broken('Permission', 'tandem', (o: Any) => {
        o.spec.permissions.write = '^message$';
      }),
    /cannot write to amq.default/,
  ],
  [
    "a store URL with the other store's password",
    consistency.stores,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        envOf(o, 'REDIS_PASSWORD').valueFrom.secretKeyRef.name = 'valkey';
      }),
    /not the Secret redis\/password/,
  ],
  [
    'a store URL with an empty user (redis://:password@, refused by redis-cli 7.0)',
    consistency.stores,
    () =>
      broken('Deployment', 'rabbit-consumer', (o: Any) => {
        envOf(o, 'VALKEY_URL').value = 'redis://:$(VALKEY_PASSWORD)@valkey.tandem.svc.cluster.local:6379';
      }),
    /rabbit-consumer VALKEY_URL: names no user/,
  ],
  [
    'a store URL with a user other than default',
    consistency.stores,
    () =>
      broken('Deployment', 'kafka-consumer', (o: Any) => {
        envOf(o, 'REDIS_URL').value = 'redis://tandem:$(REDIS_PASSWORD)@redis.tandem.svc.cluster.local:6379';
      }),
    /kafka-consumer REDIS_URL: user tandem is not `default`/,
  ],
  [
    'a store that may evict',
    consistency.stores,
    () =>
      broken('StatefulSet', 'redis', (o: Any) => {
        pod(o).volumes[0].configMap.name = 'tandem-config';
      }),
    /lacks "maxmemory-policy noeviction"/,
  ],
  [
    'more Kafka consumers than partitions',
    consistency.keda,
    () =>
      broken('ScaledObject', 'kafka-consumer', (o: Any) => {
        o.spec.maxReplicaCount = 8;
      }),
    /8 > 6 partitions/,
  ],
  [
    'another consumer group',
    consistency.keda,
    () =>
      broken('ScaledObject', 'kafka-consumer', (o: Any) => {
        o.spec.triggers[0].metadata.consumerGroup = 'other';
      }),
    /consumerGroup other/,
  ],
  [
    'a Kafka trigger that does not log in',
    consistency.keda,
    () =>
      broken('ScaledObject', 'kafka-consumer', (o: Any) => {
        delete o.spec.triggers[0].metadata.sasl;
      }),
    /sasl undefined is not scram_sha512/,
  ],
  [
    "a Kafka trigger's password from another variable",
    consistency.keda,
    () =>
      broken('TriggerAuthentication', 'kafka-consumer-kafka', (o: Any) => {
        o.spec.env[1].name = 'REDIS_PASSWORD';
      }),
    /does not take password from the consumer's KAFKA_SASL_PASSWORD/,
  ],
  [
    'min above max',
    consistency.keda,
    () =>
      broken('ScaledObject', 'rabbit-consumer', (o: Any) => {
        o.spec.minReplicaCount = 7;
      }),
    /minReplicaCount > maxReplicaCount/,
  ],
  [
    '/metrics exposed',
    consistency.ingress,
    () =>
      broken('Ingress', 'edge-api', (o: Any) => {
        o.spec.rules[0].http.paths[0].path = '/metrics';
      }),
    /not exactly \/input/,
  ],
  [
    'a Secret nobody makes',
    (o) => consistency.secretSources(o),
    () =>
      broken('Deployment', 'grafana', (o: Any) => {
        envOf(o, 'REDIS_PASSWORD').valueFrom.secretKeyRef.key = 'pass';
      }),
    /redis\/pass is not made/,
  ],
  [
    "a KafkaUser's Secret when the user has no SCRAM password",
    (o) => consistency.secretSources(o),
    () =>
      broken('KafkaUser', 'tandem', (o: Any) => {
        o.spec.authentication.type = 'tls';
      }),
    /Deployment\/grpc-ingest: Secret tandem\/password is not made/,
  ],
];

describe.each(cases)('%s', (_title, rule, build, expected) => {
  it('is reported', () => {
    const problems = rule(build());
    expect(problems.join('\n')).toMatch(expected);
  });
});

describe('CRD validation fails on', () => {
  const validator = new CrdValidator();
  const object = (kind: string, name: string) =>
    deepClone(find(system(), kind, name) as K8sObject & { spec: Any });
  const crdCases: [string, () => K8sObject, RegExp][] = [
    [
      'a wrong type',
      () => {
        const o = object('KafkaTopic', 'message');
        o.spec.partitions = 'six';
        return o;
      },
      /partitions must be integer/,
    ],
    [
      'an unknown field (v1 Kafka has no spec.kafka.replicas)',
      () => {
        const o = object('Kafka', 'tandem');
        o.spec.kafka.replicas = 3;
        return o;
      },
      /must NOT have additional properties \(replicas\)/,
    ],
    [
      'a version the CRD does not serve',
      () => ({ ...object('Kafka', 'tandem'), apiVersion: 'kafka.strimzi.io/v1beta1' }),
      /not served in v1beta1/,
    ],
    [
      'a value out of range',
      () => {
        const o = object('RabbitmqCluster', 'rabbitmq');
        o.spec.replicas = -1;
        return o;
      },
      /replicas must be >= 0/,
    ],
    [
      'a missing required field',
      () => {
        const o = object('ScaledObject', 'kafka-consumer');
        delete o.spec.triggers;
        return o;
      },
      /must have required property 'triggers'/,
    ],
    [
      'an enum value (structural schema)',
      () => {
        const o = object('Queue', 'message');
        o.spec.type = 'lazy';
        return o;
      },
      /spec\/type must be equal to one of the allowed values/,
    ],
    [
      'an unknown kind',
      () => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
      /no CRD for example.com\/v1 Widget/,
    ],
  ];
  it.each(crdCases)('%s', (_title, build, expected) => {
    expect(validator.validate(build()).join('\n')).toMatch(expected);
  });
});

describe('Dockerfile checks fail on', () => {
  const dockerfile = readFileSync(fromRoot('Dockerfile'), 'utf8');
  const ignore = readFileSync(fromRoot('.dockerignore'), 'utf8');

  it('an entry point that is not copied', () => {
    const image = readImage(dockerfile.replace('COPY rabbit-consumer/ ./rabbit-consumer/', ''), ignore);
    expect(inImage(image, 'rabbit-consumer/src/index.ts')).toBe(false);
    expect(inImage(image, 'edge-api/src/index.ts')).toBe(true);
  });

  it('an entry point left out of the build context', () => {
    expect(inImage(readImage(dockerfile, `${ignore}\nkafka-consumer\n`), 'kafka-consumer/src/index.ts')).toBe(
      false,
    );
  });

  it('a file that does not exist', () => {
    expect(inImage(readImage(dockerfile, ignore), 'edge-api/src/main.ts')).toBe(false);
  });
});

describe('dashboard checks fail on', () => {
  const dashboard = () => deepClone(readDashboards()[0] as Dashboard & { panels: Any[] });
  it('a metric no service defines', () => {
    const d = dashboard();
    d.panels[1].targets[0].expr = 'sum(rate(edge_requests_total[5m]))';
    expect(dashboardProblems([d], readDatasources()).join('\n')).toMatch(
      /edge_requests_total is not a metric/,
    );
  });
  it('a data source that is not provisioned', () => {
    const d = dashboard();
    d.panels[1].targets[0].datasource.uid = 'prometheus';
    expect(dashboardProblems([d], readDatasources()).join('\n')).toMatch(
      /data source prometheus is not provisioned/,
    );
  });
  it('a store panel on one side only', () => {
    const d = dashboard();
    d.panels = d.panels.filter((p: Any) => p.datasource?.uid !== 'tandem-valkey');
    expect(dashboardProblems([d], readDatasources()).join('\n')).toMatch(
      /no Valkey panel for get messages:total/,
    );
  });
});

describe('the secret scan finds', () => {
  it.each([
    'password: hunter2',
    'stringData: { password: hunter2 }',
    'RABBITMQ_URL=amqp://tandem:hunter2@host:5672',
    'value: redis://default:s3cret@redis:6379',
    'value: redis://:s3cret@redis:6379',
    'GF_SECURITY_ADMIN_PASSWORD=admin123',
    '  admin-password: "abc"',
    'api_key = "xyz"',
  ])('%s', (line) => {
    expect(scanText('file', line)).toHaveLength(1);
  });

  it.each([
    // A Grafana-style ${VAR} reference, spelt in two parts for the linter.
    ['password: $', '{REDIS_PASSWORD}'].join(''),
    'value: redis://default:$(REDIS_PASSWORD)@redis:6379',
    'automountServiceAccountToken: false',
    'key: password',
    '--from-literal=password="$(openssl rand -hex 24)"',
  ])('nothing in %s', (line) => {
    expect(scanText('file', line)).toEqual([]);
  });
});

describe('the Workload type', () => {
  it('reads the objects the rules read', () => {
    const edge = find<Workload>(rendered('k8s/base'), 'Deployment', 'edge-api');
    expect(edge?.spec.template.spec.containers[0]?.name).toBe('edge-api');
  });
});
