import { describe, expect, it } from 'vitest';
import { combinations, rendered } from '../src/combinations.ts';
import { consistencyRules } from '../src/consistency.ts';
import { resolveEnv } from '../src/env.ts';
import { find, type K8sObject, type Workload } from '../src/manifests.ts';

/** An application build together with the Kafka and RabbitMQ it talks to (from their own folders if not in it). */
function system(dir: string): K8sObject[] {
  const objects = [...rendered(dir)];
  if (!objects.some((o) => o.kind === 'Kafka')) objects.push(...rendered('strimzi'));
  if (!objects.some((o) => o.kind === 'RabbitmqCluster')) objects.push(...rendered('rabbitmq-operator'));
  return objects;
}

describe.each(combinations().filter((c) => c.app))('$dir with Kafka and RabbitMQ', ({ dir }) => {
  it.each(Object.entries(consistencyRules))('%s', (_name, rule) => {
    expect(rule(system(dir))).toEqual([]);
  });
});

describe('k8s/base', () => {
  const base = rendered('k8s/base');

  it('scales the edge on CPU: HPA autoscaling/v2, 2..10 replicas, 70% utilisation', () => {
    const hpa = find(base, 'HorizontalPodAutoscaler', 'edge-api');
    expect(hpa?.apiVersion).toBe('autoscaling/v2');
    expect(hpa?.spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: 'edge-api' },
      minReplicas: 2,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    });
  });

  // Set, not left to the edge's defaults silently: tuning them is one visible line in config.env (serviceEnv,
  // run by rules.test.ts, checks that the edge's schema takes the values).
  it("sets the edge's coalescing and connection bound from the ConfigMap", () => {
    const edge = find<Workload>(base, 'Deployment', 'edge-api');
    const container = edge?.spec.template.spec.containers.find((c) => c.name === 'edge-api');
    expect(container).toBeDefined();
    const { values, problems } = resolveEnv(container ?? { name: '', image: '' }, base, 'tandem');
    expect(problems).toEqual([]);
    for (const name of [
      'EDGE_COALESCE_MAX',
      'EDGE_COALESCE_LINGER_MS',
      'EDGE_COALESCE_CALLS_OUT',
      'EDGE_COALESCE_INTERVAL_MS',
      'EDGE_MAX_CONNECTIONS',
    ] as const) {
      expect([name, values[name]]).toEqual([name, expect.stringMatching(/^\d+$/)]);
      expect(container?.env?.find((e) => e.name === name)?.valueFrom?.configMapKeyRef?.name).toMatch(
        /^tandem-config-/, // with kustomize's hash suffix
      );
    }
  });

  it('puts everything in the namespace tandem', () => {
    expect(
      base.filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'tandem').map((o) => o.kind),
    ).toEqual([]);
  });
});

describe('strimzi', () => {
  it('makes the topic message with 6 partitions', () => {
    expect(find(rendered('strimzi'), 'KafkaTopic', 'message')?.spec).toMatchObject({ partitions: 6 });
  });

  it("lets no client in without SASL/SCRAM-SHA-512, and makes the services' KafkaUser tandem", () => {
    const objects = rendered('strimzi');
    const kafka = find(objects, 'Kafka', 'tandem')?.spec as { kafka: { listeners: unknown[] } } | undefined;
    expect(kafka?.kafka.listeners).toEqual([
      expect.objectContaining({ authentication: { type: 'scram-sha-512' } }),
    ]);
    expect(find(objects, 'KafkaUser', 'tandem')?.spec).toEqual({ authentication: { type: 'scram-sha-512' } });
  });
});
