/**
 * Conventions every rendered object must follow (STYLE.md, after Online Boutique). Each rule takes the objects of
 * one build and returns its problems, one line each, naming the object: [] means the rule holds.
 */
import {
  allContainers,
  type Container,
  find,
  id,
  isService,
  isWorkload,
  type K8sObject,
  ns,
  type PodSpec,
  type Probe,
  type Service,
  type Workload,
} from './manifests.ts';

export const MIN_GRACE_SECONDS = 30;

/** Each Deployment/StatefulSet has an `app` label, the same on its pods and selector, and a Service selecting it. */
export function appLabels(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const services = objects.filter(isService);
  for (const w of objects.filter(isWorkload)) {
    const app = w.metadata.labels?.app;
    if (!app) {
      problems.push(`${id(w)}: no \`app\` label`);
      continue;
    }
    if (w.spec.template.metadata.labels?.app !== app)
      problems.push(`${id(w)}: pod template's app label is not ${app}`);
    if (w.spec.selector.matchLabels?.app !== app)
      problems.push(`${id(w)}: selector does not match app=${app}`);
    const selecting = services.filter((s) => ns(s) === ns(w) && s.spec.selector?.app === app);
    if (selecting.length === 0) problems.push(`${id(w)}: no Service selects app=${app}`);
  }
  for (const s of services) {
    const selector = s.spec.selector ?? {};
    const matches = objects
      .filter(isWorkload)
      .some(
        (w) =>
          ns(w) === ns(s) &&
          Object.keys(selector).length > 0 &&
          Object.entries(selector).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v),
      );
    if (!matches) problems.push(`${id(s)}: its selector ${JSON.stringify(selector)} matches no pod template`);
    if (s.metadata.labels?.app !== selector.app)
      problems.push(`${id(s)}: its app label differs from its selector's`);
  }
  return problems;
}

const containerPortNames = (c: Container) => new Set((c.ports ?? []).map((p) => p.name));

function probePort(probe: Probe): string | number | undefined {
  return probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port;
}

/** Named ports everywhere; Service targetPorts and probes refer to ports the containers name. */
export function namedPorts(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    for (const c of w.spec.template.spec.containers) {
      for (const p of c.ports ?? []) {
        if (!p.name) problems.push(`${id(w)} container ${c.name}: port ${p.containerPort} has no name`);
      }
      for (const [kind, probe] of probesOf(c)) {
        const port = probePort(probe);
        if (typeof port === 'number')
          problems.push(`${id(w)} container ${c.name}: ${kind} uses a port number`);
        else if (port !== undefined && !containerPortNames(c).has(port)) {
          problems.push(`${id(w)} container ${c.name}: ${kind} port ${port} is not a named container port`);
        }
      }
    }
  }
  for (const s of objects.filter(isService)) {
    const pods = objects
      .filter(isWorkload)
      .filter((w) => ns(w) === ns(s) && w.spec.template.metadata.labels?.app === s.spec.selector?.app);
    for (const p of s.spec.ports) {
      if (!p.name) problems.push(`${id(s)}: port ${p.port} has no name`);
      if (typeof p.targetPort !== 'string') {
        problems.push(`${id(s)}: port ${p.name ?? p.port} targets a number, not a named container port`);
        continue;
      }
      const target = p.targetPort;
      for (const w of pods) {
        if (!w.spec.template.spec.containers.some((c) => containerPortNames(c).has(target))) {
          problems.push(`${id(s)}: targetPort ${target} is not a port of ${id(w)}`);
        }
      }
    }
  }
  return problems;
}

function probesOf(c: Container): [string, Probe][] {
  const probes: [string, Probe | undefined][] = [
    ['livenessProbe', c.livenessProbe],
    ['readinessProbe', c.readinessProbe],
    ['startupProbe', c.startupProbe],
  ];
  return probes.filter((entry): entry is [string, Probe] => entry[1] !== undefined);
}

/** Every long-running container has a liveness and a readiness probe. */
export function probes(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    for (const c of w.spec.template.spec.containers) {
      if (!c.livenessProbe) problems.push(`${id(w)} container ${c.name}: no livenessProbe`);
      if (!c.readinessProbe) problems.push(`${id(w)} container ${c.name}: no readinessProbe`);
    }
  }
  return problems;
}

/** Requests and limits of CPU and memory on every container. */
export function resources(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    for (const c of allContainers(w.spec.template.spec)) {
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) {
          if (!c.resources?.[kind]?.[resource])
            problems.push(`${id(w)} container ${c.name}: no ${kind}.${resource}`);
        }
      }
    }
  }
  return problems;
}

/**
 * The locked-down security context (Pod Security "restricted"): non-root, read-only root filesystem, no privilege
 * escalation, every capability dropped, the runtime's default seccomp profile. Pod-level settings count.
 */
export function securityContext(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    const pod: PodSpec = w.spec.template.spec;
    for (const c of allContainers(pod)) {
      const sc = c.securityContext ?? {};
      const where = `${id(w)} container ${c.name}`;
      if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true)
        problems.push(`${where}: not runAsNonRoot`);
      const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
      if (uid === 0) problems.push(`${where}: runAsUser 0`);
      if (sc.readOnlyRootFilesystem !== true) problems.push(`${where}: root filesystem not read-only`);
      if (sc.allowPrivilegeEscalation !== false)
        problems.push(`${where}: allowPrivilegeEscalation not false`);
      if (sc.privileged === true) problems.push(`${where}: privileged`);
      if (!sc.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities do not drop ALL`);
      if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${where}: adds capabilities`);
      const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
    }
  }
  return problems;
}

/** Images name a version (a tag other than latest, or a digest). */
export function imageTags(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    for (const c of allContainers(w.spec.template.spec)) {
      if (c.image.includes('@sha256:')) continue;
      const tag = /:([^/:]+)$/.exec(c.image)?.[1];
      if (!tag) problems.push(`${id(w)} container ${c.name}: image ${c.image} has no tag`);
      else if (tag === 'latest') problems.push(`${id(w)} container ${c.name}: image ${c.image} uses latest`);
    }
  }
  return problems;
}

/** Time to drain: the services stop cleanly on SIGTERM within their 25 s, so at least 30 s of grace. */
export function gracePeriods(objects: readonly K8sObject[]): string[] {
  return objects
    .filter(isWorkload)
    .filter((w) => (w.spec.template.spec.terminationGracePeriodSeconds ?? 30) < MIN_GRACE_SECONDS)
    .map((w) => `${id(w)}: terminationGracePeriodSeconds below ${MIN_GRACE_SECONDS}`);
}

/** Every pod runs as its own ServiceAccount, which exists; StatefulSets name a headless governing Service. */
export function serviceAccounts(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    const name = w.spec.template.spec.serviceAccountName;
    if (!name || name === 'default') problems.push(`${id(w)}: no ServiceAccount of its own`);
    else if (!find(objects, 'ServiceAccount', name, ns(w)))
      problems.push(`${id(w)}: ServiceAccount ${name} missing`);
    if (w.kind === 'StatefulSet') {
      const governing = w.spec.serviceName
        ? find<Service>(objects, 'Service', w.spec.serviceName, ns(w))
        : undefined;
      if (governing?.spec.clusterIP !== 'None')
        problems.push(`${id(w)}: serviceName is not a headless Service`);
    }
  }
  return problems;
}

interface ScaleTarget {
  kind: string;
  name: string;
}

/** Autoscaled Deployments exist and do not set `replicas` (an apply would reset the autoscaler's count). */
export function autoscaling(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const scalers = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler' || o.kind === 'ScaledObject');
  for (const scaler of scalers) {
    const target = (scaler.spec as { scaleTargetRef: ScaleTarget }).scaleTargetRef;
    const workload = find<Workload>(objects, target.kind ?? 'Deployment', target.name, ns(scaler));
    if (!workload) problems.push(`${id(scaler)}: target ${target.kind}/${target.name} does not exist`);
    else if (workload.spec.replicas !== undefined) {
      problems.push(`${id(workload)}: sets replicas although ${id(scaler)} scales it`);
    }
  }
  const targets = scalers.map((s) => (s.spec as { scaleTargetRef: ScaleTarget }).scaleTargetRef.name);
  for (const name of new Set(targets)) {
    if (targets.filter((t) => t === name).length > 1)
      problems.push(`${name}: scaled by more than one autoscaler`);
  }
  return problems;
}

/** Prometheus annotations point at a port the pod names, and only where a path is given. */
export function scrapeAnnotations(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const w of objects.filter(isWorkload)) {
    const annotations = w.spec.template.metadata.annotations ?? {};
    if (annotations['prometheus.io/scrape'] !== 'true') continue;
    const port = Number(annotations['prometheus.io/port']);
    const ports = w.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    if (!ports.some((p) => p.containerPort === port)) {
      problems.push(
        `${id(w)}: prometheus.io/port ${annotations['prometheus.io/port']} is not a container port`,
      );
    }
    if (!annotations['prometheus.io/path']?.startsWith('/')) problems.push(`${id(w)}: no prometheus.io/path`);
  }
  return problems;
}

/** No Secret with a value in the build: Secrets are made on the cluster (k8s/secrets.sh), never committed. */
export function noSecretValues(objects: readonly K8sObject[]): string[] {
  return objects
    .filter(
      (o) =>
        o.kind === 'Secret' &&
        (Object.keys(o.data ?? {}).length > 0 || Object.keys(o.stringData ?? {}).length > 0),
    )
    .map((o) => `${id(o)}: holds values; Secrets are created by k8s/secrets.sh, not committed`);
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: LabelSelector;
    policyTypes?: string[];
    ingress?: unknown[];
    egress?: { ports?: { port?: number | string; protocol?: string }[] }[];
  };
}

const selectsEveryPod = (selector: LabelSelector) =>
  Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  return (
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const value = labels[key];
      if (operator === 'In') return value !== undefined && values.includes(value);
      if (operator === 'NotIn') return value === undefined || !values.includes(value);
      if (operator === 'Exists') return value !== undefined;
      return value === undefined;
    })
  );
}

/**
 * Network policies: in each namespace with workloads, a default deny (every pod, ingress and egress, no rule), DNS
 * for every pod, and for every workload a policy of its own that lets its pods do their part (k8s/base's
 * networkpolicies.yaml, the brokers' and components' own).
 */
export function networkPolicies(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const workloads = objects.filter(isWorkload);
  const policies = objects.filter((o): o is NetworkPolicy => o.kind === 'NetworkPolicy');
  for (const namespace of new Set(workloads.map(ns))) {
    const here = policies.filter((p) => ns(p) === namespace && selectsEveryPod(p.spec.podSelector));
    const denies = here.some(
      (p) =>
        ['Ingress', 'Egress'].every((type) => p.spec.policyTypes?.includes(type)) &&
        (p.spec.ingress ?? []).length === 0 &&
        (p.spec.egress ?? []).length === 0,
    );
    if (!denies)
      problems.push(`namespace ${namespace}: no default-deny NetworkPolicy (every pod, in and out)`);
    const dns = here.some((p) => p.spec.egress?.some((rule) => rule.ports?.some((port) => port.port === 53)));
    if (!dns)
      problems.push(`namespace ${namespace}: no NetworkPolicy lets every pod ask DNS (egress to port 53)`);
  }
  for (const w of workloads) {
    const labels = w.spec.template.metadata.labels ?? {};
    const own = policies.filter(
      (p) => ns(p) === ns(w) && !selectsEveryPod(p.spec.podSelector) && selects(p.spec.podSelector, labels),
    );
    if (own.length === 0) problems.push(`${id(w)}: no NetworkPolicy of its own selects its pods`);
  }
  return problems;
}

/** Every rule above, by name. */
export const conventionRules = {
  appLabels,
  namedPorts,
  probes,
  resources,
  securityContext,
  imageTags,
  gracePeriods,
  serviceAccounts,
  autoscaling,
  scrapeAnnotations,
  noSecretValues,
  networkPolicies,
} satisfies Record<string, (objects: readonly K8sObject[]) => string[]>;
