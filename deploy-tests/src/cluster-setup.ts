/**
 * Global setup of the cluster check (vitest.cluster.config.ts), once before the test files: kustomize, an API server
 * that answers, and — applied for real, idempotent — the CRDs, stand-ins for kinds without a CRD in the folder, the
 * dry runs' namespace and the limits policy, waiting until each is in force. Any failure stops the run with one line.
 */

import { readFileSync } from 'node:fs';
import {
  dryRunNamespace,
  fieldManager,
  intoDryRunNamespace,
  isBuiltInGroup,
  kubectl,
  kubectlOrThrow,
  limitsPolicyFile,
  limitsPolicyName,
  servedKinds,
  standInCrd,
  toYaml,
  unreachableMessage,
} from './cluster.ts';
import { combinations } from './combinations.ts';
import { resolveCrdsDir } from './crd-source.ts';
import { ensureKustomize, kustomizeBuild, parseManifests, progressEvery } from './kustomize.ts';
import type { K8sObject } from './manifests.ts';
import { fromRoot } from './paths.ts';

const log = (line: string) => console.log(`cluster-check: ${line}`);
const applyForReal = ['apply', '--server-side', `--field-manager=${fieldManager}`, '--force-conflicts'];

export default async function setup(): Promise<void> {
  await ensureKustomize({ log, progress: progressEvery((line) => log(`kustomize: ${line}`)) });

  const ready = kubectl(['get', '--raw', '/readyz']);
  if (!ready.ok) throw new Error(unreachableMessage(ready.stderr));
  const version = JSON.parse(kubectlOrThrow(['version', '-o', 'json'])) as {
    serverVersion?: { gitVersion?: string };
  };
  log(`API server ${version.serverVersion?.gitVersion ?? '(version unknown)'}`);

  // The CRDs, upstream files read where crd-source.ts says (never copied into the repository).
  const crds = resolveCrdsDir();
  kubectlOrThrow([...applyForReal, '--recursive', '-f', crds.dir]);
  log(`CRDs of ${crds.dir} applied`);

  // A kind of an operator's group that the server still does not serve gets a stand-in (cluster.ts: standInCrd).
  const objects: K8sObject[] = combinations().flatMap(({ dir }) => kustomizeBuild(dir));
  const kindsByVersion = new Map<string, Set<string>>();
  for (const { apiVersion, kind } of objects) {
    kindsByVersion.set(apiVersion, (kindsByVersion.get(apiVersion) ?? new Set()).add(kind));
  }
  kubectlOrThrow(['wait', '--for=condition=Established', '--all', 'crd', '--timeout=60s']);
  const standIns: K8sObject[] = [];
  for (const [apiVersion, kinds] of kindsByVersion) {
    const group = apiVersion.includes('/') ? (apiVersion.split('/')[0] as string) : '';
    if (isBuiltInGroup(group)) continue;
    const served = servedKinds(apiVersion) ?? new Set();
    for (const kind of kinds) if (!served.has(kind)) standIns.push(standInCrd(apiVersion, kind));
  }
  if (standIns.length > 0) {
    kubectlOrThrow([...applyForReal, '-f', '-'], toYaml(standIns));
    const names = standIns.map((crd) => `crd/${crd.metadata.name}`);
    kubectlOrThrow(['wait', '--for=condition=Established', ...names, '--timeout=60s']);
    log(`stand-in CRDs (no CRD in the folder): ${standIns.map((crd) => crd.metadata.name).join(', ')}`);
  }

  // The dry runs' namespace, as the base defines `tandem` (its Pod Security labels included).
  const [namespace] = parseManifests(
    readFileSync(fromRoot('k8s', 'base', 'namespace.yaml'), 'utf8'),
    'namespace.yaml',
  );
  if (namespace?.kind !== 'Namespace') throw new Error('k8s/base/namespace.yaml holds no Namespace');
  const dryRunNs = intoDryRunNamespace(namespace);
  kubectlOrThrow([...applyForReal, '-f', '-'], toYaml([dryRunNs]));

  // The limits policy; the server compiles a policy and sees its binding a moment after they are stored, so wait
  // until a Pod without limits is refused.
  kubectlOrThrow([...applyForReal, '-f', limitsPolicyFile]);
  const probe = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'tandem-limits-probe', namespace: dryRunNamespace },
    spec: { containers: [{ name: 'probe', image: 'probe:0' }] },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const result = kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], JSON.stringify(probe));
    if (!result.ok && result.stderr.includes(limitsPolicyName)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the policy ${limitsPolicyName} is not in force after 60 s: ${result.stderr || 'a Pod without limits was accepted'}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  log(`namespace ${dryRunNamespace} and the policy ${limitsPolicyName} in force`);
}
