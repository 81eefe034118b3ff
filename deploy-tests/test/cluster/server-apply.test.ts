/**
 * Every documented combination through a real API server (server-side apply, dry run: nothing stored), and proof
 * that the check fails for what it is there to catch. The global setup (src/cluster-setup.ts) has installed the
 * CRDs, the namespace and the limits policy.
 */
import { describe, expect, it } from 'vitest';
import { dryRunApply, limitsPolicyName } from '../../src/cluster.ts';
import { combinations, rendered } from '../../src/combinations.ts';
import { deepClone, find, type K8sObject, type Workload } from '../../src/manifests.ts';

describe.each(combinations())('$dir', ({ dir }) => {
  it('is accepted by the API server: schemas, strict field validation, CRDs and admission', () => {
    const objects = rendered(dir);
    expect(objects.length).toBeGreaterThan(0);
    const result = dryRunApply(objects);
    expect(result.stderr.split('\n').filter((line) => /error/i.test(line))).toEqual([]);
    expect(result.ok).toBe(true);
    // kubectl names each object it applied: all of them went through the server.
    expect(result.stdout.trim().split('\n')).toHaveLength(objects.length);
  });
});

function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not in the build`);
  return value;
}

/** The base with one change to the edge's Deployment. */
function baseWithEdge(change: (edge: Workload) => void): K8sObject[] {
  const objects = deepClone(rendered('k8s/base'));
  change(present(find<Workload>(objects, 'Deployment', 'edge-api'), 'Deployment/edge-api'));
  return objects;
}

interface Kafka extends K8sObject {
  spec: { kafka: Record<string, unknown> };
}

/** The strimzi folder with one change to the Kafka. */
function strimziWithKafka(change: (kafka: Kafka) => void): K8sObject[] {
  const objects = deepClone(rendered('strimzi'));
  change(present(find<Kafka>(objects, 'Kafka', 'tandem'), 'Kafka/tandem'));
  return objects;
}

describe('the check fails', () => {
  it('for a field the built-in schema does not know (fieldValidation=Strict)', () => {
    const result = dryRunApply(
      baseWithEdge((edge) => {
        const container = present(edge.spec.template.spec.containers[0], 'the edge container');
        (container as unknown as Record<string, unknown>).imagePullPolice = 'Always';
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(
      /containers\[name="edge-api"\]\.imagePullPolice: field not declared in schema/,
    );
  });

  it("for a field a custom resource's CRD does not know (fieldValidation=Strict)", () => {
    const result = dryRunApply(
      strimziWithKafka((kafka) => {
        kafka.spec.kafka.replicas = 3;
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/Kind=Kafka\): \.spec\.kafka\.replicas: field not declared in schema/);
  });

  it('for a container without limits (the ValidatingAdmissionPolicy)', () => {
    const result = dryRunApply(
      baseWithEdge((edge) => {
        const container = present(edge.spec.template.spec.containers[0], 'the edge container');
        expect(container.resources?.limits).toBeDefined();
        delete container.resources?.limits;
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(limitsPolicyName);
    expect(result.stderr).toMatch(/without: edge-api\b/);
  });

  it('for an init container without a memory limit too', () => {
    const result = dryRunApply(
      baseWithEdge((edge) => {
        edge.spec.template.spec.initContainers = [
          {
            name: 'wait',
            image: 'registry.example.com/tandem:0.0.0',
            command: ['true'],
            resources: { limits: { cpu: '100m' } },
          },
        ];
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/without: wait\b/);
  });

  it('for a Strimzi resource with a value outside its enum (the CRD schema)', () => {
    const result = dryRunApply(
      strimziWithKafka((kafka) => {
        const [listener] = kafka.spec.kafka.listeners as { type: string }[];
        present(listener, 'a listener of Kafka/tandem').type = 'clusterip';
      }),
    );
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/spec\.kafka\.listeners\[0\]\.type: Unsupported value: "clusterip"/);
  });
});
