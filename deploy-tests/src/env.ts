/**
 * The environment a container would get, resolved as the kubelet does it: literal values, ConfigMap keys from the
 * build, Secret keys as placeholders (their values are not in the repository), and `$(NAME)` references to
 * variables defined earlier in the list. Then the service's own schema parses it.
 */
import type { z } from 'zod';
import { type Container, find, type K8sObject, serviceOf, type Workload } from './manifests.ts';
import { configSchemas, portNames } from './services.ts';

/** Stands in for a Secret's value: letters only, so that it fits in a URL as a user name or a password. */
export const secretPlaceholder = (name: string, key: string) =>
  `secret${name}${key}`.replace(/[^a-zA-Z0-9]/g, '').toLowerCase();

export interface ResolvedEnv {
  values: Record<string, string>;
  problems: string[];
  /** Variables only referenced by others through `$(NAME)` (helpers, e.g. a password that goes into a URL). */
  helpers: Set<string>;
}

const reference = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g;

export function resolveEnv(
  container: Container,
  objects: readonly K8sObject[],
  namespace: string,
): ResolvedEnv {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const referenced = new Set<string>();
  for (const text of [...(container.command ?? []), ...(container.args ?? [])]) {
    for (const match of text.matchAll(reference)) referenced.add(match[1] as string);
  }
  for (const variable of container.env ?? []) {
    if (variable.name in values) problems.push(`${variable.name} is set twice`);
    if (variable.value !== undefined) {
      values[variable.name] = variable.value.replace(reference, (whole, name: string) => {
        referenced.add(name);
        if (!(name in values)) {
          problems.push(`${variable.name} refers to $(${name}), which is not defined before it`);
          return whole;
        }
        return values[name] as string;
      });
    } else if (variable.valueFrom?.configMapKeyRef) {
      const { name, key } = variable.valueFrom.configMapKeyRef;
      const value = find(objects, 'ConfigMap', name, namespace)?.data?.[key];
      if (value === undefined) problems.push(`${variable.name}: ConfigMap ${name} has no key ${key}`);
      else values[variable.name] = value;
    } else if (variable.valueFrom?.secretKeyRef) {
      const { name, key } = variable.valueFrom.secretKeyRef;
      values[variable.name] = secretPlaceholder(name, key);
    } else {
      problems.push(`${variable.name}: neither a value, a ConfigMap key nor a Secret key`);
    }
  }
  return { values, problems, helpers: referenced };
}

export interface ServiceContainer {
  workload: Workload;
  container: Container;
  service: string;
}

/** The containers that run one of the four services. */
export function serviceContainers(objects: readonly K8sObject[]): ServiceContainer[] {
  return objects
    .filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet')
    .flatMap((workload) =>
      workload.spec.template.spec.containers.flatMap((container) => {
        const service = serviceOf(container);
        return service ? [{ workload, container, service }] : [];
      }),
    );
}

/** The parsed configuration of a service container, or the schema's complaints. */
export function parseServiceConfig(
  service: string,
  env: Record<string, string>,
): { config?: Record<string, unknown>; problems: string[] } {
  const schema: z.ZodObject | undefined = configSchemas[service];
  if (!schema) return { problems: [`${service} is not one of the four services`] };
  const result = schema.safeParse(env);
  if (result.success) return { config: result.data as Record<string, unknown>, problems: [] };
  return {
    problems: result.error.issues.map((issue) => `${String(issue.path[0] ?? '(env)')}: ${issue.message}`),
  };
}

/**
 * The services' environment: every variable is one the service's schema reads (or a helper referenced through
 * `$(NAME)`), no envFrom (it would pass along whatever a ConfigMap holds), and the whole parses with the schema;
 * the named ports agree with PORT / METRICS_PORT.
 */
export function serviceEnv(objects: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { workload, container, service } of serviceContainers(objects)) {
    const where = `${workload.kind}/${workload.metadata.name} container ${container.name}`;
    const schema = configSchemas[service];
    if (!schema) {
      problems.push(`${where}: runs ${service}, which is not one of the four services`);
      continue;
    }
    if ((container.envFrom ?? []).length > 0) problems.push(`${where}: envFrom passes unchecked variables`);
    const resolved = resolveEnv(container, objects, workload.metadata.namespace ?? 'default');
    problems.push(...resolved.problems.map((p) => `${where}: ${p}`));
    for (const variable of container.env ?? []) {
      if (!(variable.name in schema.shape) && !resolved.helpers.has(variable.name)) {
        problems.push(
          `${where}: ${variable.name} is not a variable of ${service} (${service}/src/config.ts)`,
        );
      }
    }
    const parsed = parseServiceConfig(service, resolved.values);
    problems.push(...parsed.problems.map((p) => `${where}: ${p}`));
    if (!parsed.config) continue;
    const named = portNames[service] ?? {};
    for (const port of container.ports ?? []) {
      const variable = port.name ? named[port.name] : undefined;
      if (!variable)
        problems.push(`${where}: port ${port.name ?? port.containerPort} is not one the service opens`);
      else if (parsed.config[variable] !== port.containerPort) {
        problems.push(
          `${where}: port ${port.name} is ${port.containerPort} but ${variable} is ${parsed.config[variable]}`,
        );
      }
    }
    for (const name of Object.keys(named)) {
      if (!(container.ports ?? []).some((p) => p.name === name))
        problems.push(`${where}: no port named ${name}`);
    }
  }
  return problems;
}
