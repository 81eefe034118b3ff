import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { secretsScript } from '../src/consistency.ts';
import { fromRoot } from '../src/paths.ts';
import { scanDeployment } from '../src/secret-scan.ts';

describe('secrets', () => {
  it('no secret value in k8s/, strimzi/, rabbitmq-operator/ or the Dockerfile', () => {
    expect(scanDeployment()).toEqual([]);
  });

  it('k8s/secrets.sh is valid bash and makes the Secrets the manifests read', () => {
    execFileSync('bash', ['-n', fromRoot('k8s', 'secrets.sh')]);
    expect(secretsScript().map((s) => s.name)).toEqual([
      'redis',
      'valkey',
      'rabbitmq-tandem',
      'grafana',
      'edge-api-keys',
      // Only with --kafka-user (a Kafka without Strimzi's User Operator: k8s/overlays/no-operator).
      'tandem',
    ]);
  });
});
