/** The shapes of the Kubernetes objects these checks read (only the fields they read), and lookups over a build. */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface KeyRef {
  name: string;
  key: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: KeyRef; secretKeyRef?: KeyRef; fieldRef?: { fieldPath: string } };
}

export interface Probe {
  httpGet?: { path?: string; port: string | number };
  tcpSocket?: { port: string | number };
  grpc?: { port: number };
  exec?: { command: string[] };
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: unknown[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  terminationGracePeriodSeconds?: number;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  volumes?: { name: string; configMap?: { name: string }; emptyDir?: unknown }[];
}

export interface Workload extends K8sObject {
  kind: 'Deployment' | 'StatefulSet';
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: { matchLabels?: Record<string, string> };
    template: {
      metadata: ObjectMeta | { labels?: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
    volumeClaimTemplates?: unknown[];
  };
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: string | number;
}

export interface Service extends K8sObject {
  kind: 'Service';
  spec: { selector?: Record<string, string>; clusterIP?: string; ports: ServicePort[] };
}

export const isWorkload = (o: K8sObject): o is Workload =>
  o.kind === 'Deployment' || o.kind === 'StatefulSet';
export const isService = (o: K8sObject): o is Service => o.kind === 'Service';

export const ns = (o: K8sObject) => o.metadata.namespace ?? 'default';
export const id = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** The object of this kind and name in `namespace`, if any. */
export function find<T extends K8sObject = K8sObject>(
  objects: readonly K8sObject[],
  kind: string,
  name: string,
  namespace?: string,
): T | undefined {
  return objects.find(
    (o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || ns(o) === namespace),
  ) as T | undefined;
}

export const ofKind = <T extends K8sObject = K8sObject>(objects: readonly K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind) as T[];

export const allContainers = (pod: PodSpec) => [...(pod.initContainers ?? []), ...pod.containers];

/** The tandem service a container runs (`node <service>/src/index.ts`), or undefined for other images. */
export function serviceOf(container: Container): string | undefined {
  const [program, entry] = [...(container.command ?? []), ...(container.args ?? [])];
  if (program !== 'node' || entry === undefined) return undefined;
  return /^([a-z0-9-]+)\/src\/index\.ts$/.exec(entry)?.[1];
}

export const deepClone = <T>(value: T): T => structuredClone(value);
