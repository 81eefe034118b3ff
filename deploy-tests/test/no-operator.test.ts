/**
 * k8s/overlays/no-operator: Kafka and RabbitMQ as StatefulSets of its own must stand exactly where the operators'
 * would, so that the base's services run unchanged: the Services their configuration names, the logins their
 * Secrets hold, a Kafka that lets no one in without SCRAM — and the whole must fit a 2-core node.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rendered } from '../src/combinations.ts';
import { configured, secretsScript } from '../src/consistency.ts';
import { find, isWorkload, type Service, type Workload } from '../src/manifests.ts';
import { fromRoot } from '../src/paths.ts';

const objects = rendered('k8s/overlays/no-operator');
const configData = (name: string) =>
  (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith(`${name}-`))?.data ??
    {}) as Record<string, string>;
const envOf = (workload: string) =>
  find<Workload>(objects, 'StatefulSet', workload)?.spec.template.spec.containers[0]?.env ?? [];
const service = (name: string) => find<Service>(objects, 'Service', name);

describe('k8s/overlays/no-operator', () => {
  const services = configured(objects);

  it('runs no custom resource: nothing needs an operator', () => {
    expect(
      objects.filter(
        (o) => !/^(v1|apps\/v1|[a-z.]+\.k8s\.io\/v1|autoscaling\/v2|policy\/v1)$/.test(o.apiVersion),
      ),
    ).toEqual([]);
  });

  it("Kafka stands where KAFKA_BROKERS points, under Strimzi's names", () => {
    const brokers = new Set(services.flatMap((s) => (s.env.KAFKA_BROKERS ? [s.env.KAFKA_BROKERS] : [])));
    expect([...brokers]).toEqual(['tandem-kafka-bootstrap.tandem.svc.cluster.local:9092']);
    expect(service('tandem-kafka-bootstrap')?.spec.selector).toEqual({ app: 'kafka' });
    expect(service('tandem-kafka-bootstrap')?.spec.ports.map((p) => p.port)).toEqual([9092]);
    expect(find<Workload>(objects, 'StatefulSet', 'tandem-kafka')?.spec.serviceName).toBe(
      'tandem-kafka-brokers',
    );
  });

  it("Kafka requires SCRAM-SHA-512 and makes its user from the services' own login", () => {
    const properties = configData('kafka-config')['server.properties'] ?? '';
    expect(properties).toMatch(/^sasl\.enabled\.mechanisms=SCRAM-SHA-512$/m);
    // The one listener not on loopback is the SASL one.
    expect(/^listeners=(.*)$/m.exec(properties)?.[1]).toBe(
      'SASL_PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093',
    );
    expect(configData('kafka-config')['start.sh']).toContain('--add-scram');
    const kafka = envOf('tandem-kafka');
    const ingest =
      find<Workload>(objects, 'Deployment', 'grpc-ingest')?.spec.template.spec.containers[0]?.env ?? [];
    for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
      expect(kafka.find((e) => e.name === name)?.valueFrom, name).toEqual(
        ingest.find((e) => e.name === name)?.valueFrom,
      );
    }
    // The Secret Strimzi would make: here k8s/secrets.sh --kafka-user makes it.
    expect(secretsScript()).toContainEqual({ name: 'tandem', keys: ['password'], kafkaUserOption: true });
    expect(readFileSync(fromRoot('k8s', 'deploy.sh'), 'utf8')).toContain('--kafka-user');
  });

  it("RabbitMQ stands where RABBITMQ_URL points, its user the services' Secret, scoped to their queues", () => {
    const hosts = new Set(
      services.flatMap((s) => (s.env.RABBITMQ_URL ? [new URL(s.env.RABBITMQ_URL).host] : [])),
    );
    expect([...hosts]).toEqual(['rabbitmq.tandem.svc.cluster.local:5672']);
    expect(service('rabbitmq')?.spec.selector).toEqual({ app: 'rabbitmq' });
    const rabbit = envOf('rabbitmq-server');
    expect(rabbit.find((e) => e.name === 'RABBITMQ_USERNAME')?.valueFrom?.secretKeyRef).toEqual({
      name: 'rabbitmq-tandem',
      key: 'username',
    });
    expect(rabbit.find((e) => e.name === 'RABBITMQ_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: 'rabbitmq-tandem',
      key: 'password',
    });
    const config = configData('rabbitmq-config')['rabbitmq.conf'] ?? '';
    expect(config).toMatch(/^default_permissions\.configure = \^message\(\\\.dlq\)\?\$$/m);
  });

  it('fits a 2-core node: the CPU requests of everything add up to under one core', () => {
    const millicores = (cpu = '0') => (cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000);
    const total = objects
      .filter(isWorkload)
      .flatMap((w) => w.spec.template.spec.containers)
      .reduce((sum, c) => sum + millicores(c.resources?.requests?.cpu), 0);
    expect(total).toBeLessThan(1000);
    expect(
      find<Workload>(objects, 'Deployment', 'edge-api')?.spec.template.spec.containers[0]?.resources?.requests
        ?.cpu,
    ).toBe('100m');
  });

  it('pins every image, the one of the services to what npm run k8s:images builds', () => {
    const images = objects
      .filter(isWorkload)
      .flatMap((w) => w.spec.template.spec.containers.map((c) => c.image));
    expect(images.filter((image) => !/:[\w.-]+$/.test(image) || image.endsWith(':latest'))).toEqual([]);
    expect(new Set(images.filter((image) => image.startsWith('localhost/tandem:')))).toEqual(
      new Set(['localhost/tandem:0.0.0-dev']),
    );
  });
});
