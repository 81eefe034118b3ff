/**
 * The cluster check (`npm run test:cluster -w @tandem/deploy-tests`): every documented combination applied to a
 * real API server with a server-side dry run, so that the server's own schemas, the CRDs' schemas and admission
 * judge the manifests — what the offline tests cannot. Nothing of the combinations is stored; the check does install,
 * for real, what the dry runs need: the CRDs (crd-source.ts's folder), stand-ins for the kinds that folder lacks,
 * the namespace the dry runs go to (`tandem-dry-run`, made from the base's namespace.yaml), and the
 * ValidatingAdmissionPolicy of `deploy-tests/cluster/` that requires limits on every container in `tandem` and there.
 *
 * The API server is the local cluster's (`npm run k8s:up`, k8s/local/) unless KUBECONFIG names another; kubectl is
 * KUBECTL, else the one the local cluster built, else the one on PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import type { K8sObject } from './manifests.ts';
import { fromRoot } from './paths.ts';

export const localKubeconfig = fromRoot('.tools', 'k8s', 'cluster', 'admin.kubeconfig');
export const localKubectl = fromRoot('.tools', 'k8s', 'bin', 'kubectl');
/** The policy (and its binding) the check installs: limits on every container of the namespace tandem. */
export const limitsPolicyFile = fromRoot('deploy-tests', 'cluster', 'require-limits.yaml');
export const limitsPolicyName = 'tandem-require-limits';
/**
 * The namespace the dry runs go to, in place of `tandem`: kept empty, so that each dry run is the creation of every
 * object — what a first deployment does — and does not depend on what is deployed in `tandem` (a dry-run update of
 * a live StatefulSet fails on its immutable fields, whatever the manifests say).
 */
export const dryRunNamespace = 'tandem-dry-run';
export const appNamespace = 'tandem';
/** The field manager of every apply the check makes. */
export const fieldManager = 'tandem-cluster-check';
/** Label of the stand-in CRDs the check makes for kinds the CRD folder lacks. */
export const standInLabel = 'tandem.dev/stand-in-crd';

export interface KubectlResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export function kubectlTarget(env: NodeJS.ProcessEnv = process.env): {
  kubectl: string;
  kubeconfig?: string;
} {
  const kubectl = env.KUBECTL || (existsSync(localKubectl) ? localKubectl : 'kubectl');
  const kubeconfig = env.KUBECONFIG || (existsSync(localKubeconfig) ? localKubeconfig : undefined);
  return kubeconfig === undefined ? { kubectl } : { kubectl, kubeconfig };
}

/** Runs kubectl with `input` on stdin; never throws for kubectl's own failure (see `ok`). */
export function kubectl(args: readonly string[], input?: string): KubectlResult {
  const target = kubectlTarget();
  const result = spawnSync(target.kubectl, args, {
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: target.kubeconfig === undefined ? process.env : { ...process.env, KUBECONFIG: target.kubeconfig },
    timeout: 120_000,
  });
  if (result.error) throw new Error(`${target.kubectl} ${args.join(' ')}: ${result.error.message}`);
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr.trim() };
}

/** kubectl, throwing with its error output when it fails. */
export function kubectlOrThrow(args: readonly string[], input?: string): string {
  const result = kubectl(args, input);
  if (!result.ok) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export const toYaml = (objects: readonly K8sObject[]) =>
  objects.map((object) => stringify(object)).join('---\n');

/**
 * A server-side apply of `objects` with `--dry-run=server`: the API server decodes each object with strict field
 * validation (an unknown or duplicated field is an error, not dropped), validates it against its schema (the CRD's,
 * for a custom resource) and runs admission — the ValidatingAdmissionPolicy included — then stores nothing.
 */
export function dryRunApply(objects: readonly K8sObject[]): KubectlResult {
  return dryRunApplyAsIs(objects.map(intoDryRunNamespace));
}

/** The object moved from `tandem` to the dry runs' namespace (the Namespace `tandem` itself renamed). */
export function intoDryRunNamespace(object: K8sObject): K8sObject {
  if (object.kind === 'Namespace' && object.metadata.name === appNamespace) {
    return { ...object, metadata: { ...object.metadata, name: dryRunNamespace } };
  }
  if (object.metadata.namespace === appNamespace) {
    return { ...object, metadata: { ...object.metadata, namespace: dryRunNamespace } };
  }
  return object;
}

function dryRunApplyAsIs(objects: readonly K8sObject[]): KubectlResult {
  return kubectl(
    [
      'apply',
      '--server-side',
      '--dry-run=server',
      '--validate=strict',
      `--field-manager=${fieldManager}`,
      '--force-conflicts',
      '-f',
      '-',
    ],
    toYaml(objects),
  );
}

/** One line on what to do when no API server answers. */
export function unreachableMessage(detail: string): string {
  const target = kubectlTarget();
  return (
    `no Kubernetes API server answers (${target.kubectl}, kubeconfig ${target.kubeconfig ?? 'kubectl default'}): ` +
    `start the local cluster with \`npm run k8s:up\`, or set KUBECONFIG — ${detail.split('\n')[0]}`
  );
}

/** The kinds an API group version serves, from the server's discovery; undefined when it serves no such version. */
export function servedKinds(apiVersion: string): Set<string> | undefined {
  const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const result = kubectl(['get', '--raw', path]);
  if (!result.ok) return undefined;
  const list = JSON.parse(result.stdout) as { resources: { name: string; kind: string }[] };
  return new Set(
    list.resources.filter((resource) => !resource.name.includes('/')).map((resource) => resource.kind),
  );
}

/** Groups that are Kubernetes' own: a kind of theirs is never stood in for. */
export const isBuiltInGroup = (group: string) =>
  group === '' || !group.includes('.') || group.endsWith('.k8s.io');

/**
 * A CRD that makes the API server accept a kind whose real CRD is not in the CRD folder (Strimzi's KafkaUser,
 * KEDA's TriggerAuthentication): namespaced, its spec unchecked. The offline tests check those resources against
 * the hand-written schemas of structural-schemas.ts; on the server, only that their apiVersion and kind resolve
 * and their metadata is valid.
 */
export function standInCrd(apiVersion: string, kind: string): K8sObject {
  const [group, version] = apiVersion.split('/') as [string, string];
  const plural = `${kind.toLowerCase()}s`;
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels: { [standInLabel]: 'true' } },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } },
        },
      ],
    },
  };
}
