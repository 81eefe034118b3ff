/**
 * Validation of custom resources against the openAPIV3Schema of their CRD, in the version the resource names, which
 * the CRD must serve. The CRDs are upstream files, never copied into the repository: crd-source.ts says where they
 * are read from (CRDS_DIR, ../shared/crds, or the pinned set downloaded into .tools/crds).
 *
 * Stricter than the API server in one way: an unknown field is an error here, where the server would prune it
 * silently (a misspelt field would otherwise just vanish). CEL rules (x-kubernetes-validations) are not
 * evaluated; the ones that matter here are checked by hand in the consistency tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { CrdsUnavailableError, resolveCrdsDir } from './crd-source.ts';
import type { K8sObject } from './manifests.ts';
import { structuralSchemas } from './structural-schemas.ts';

type Schema = Record<string, unknown>;

interface CrdVersion {
  name: string;
  served: boolean;
  schema?: { openAPIV3Schema: Schema };
}

interface Crd {
  kind: 'CustomResourceDefinition';
  spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

/** Built-in kinds the manifests may use (their schemas are not available offline: the convention tests cover them). */
export const builtInKinds = new Set([
  'v1/Namespace',
  'v1/Service',
  'v1/ServiceAccount',
  'v1/ConfigMap',
  'v1/Secret',
  'apps/v1/Deployment',
  'apps/v1/StatefulSet',
  'autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/Ingress',
  'networking.k8s.io/v1/NetworkPolicy',
  'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding',
]);

/**
 * Every CustomResourceDefinition in the YAML files of `dir` and its subfolders (multi-document files, such as an
 * operator's release bundle, included; other kinds skipped). Throws, in one line, when there is none.
 */
export function loadCrds(dir: string = resolveCrdsDir().dir): Crd[] {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.ya?ml$/.test(file))
    .sort();
  const crds: Crd[] = [];
  for (const file of files) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const value = document.toJS() as { kind?: string } | null;
      if (value?.kind === 'CustomResourceDefinition') crds.push(value as Crd);
    }
  }
  if (crds.length === 0)
    throw new CrdsUnavailableError(`no CustomResourceDefinition in the YAML files of ${dir}`);
  return crds;
}

/** Every object schema that lists its properties and does not ask to keep unknown fields rejects them. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // `properties` maps names to schemas; only its values are schemas.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(Object.entries(value as Schema).map(([name, sub]) => [name, closeObjects(sub)]))
        : closeObjects(value);
  }
  if (
    out.properties !== undefined &&
    out.additionalProperties === undefined &&
    out['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false });
  addFormats(ajv);
  ajv.addVocabulary([
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-list-type',
    'x-kubernetes-map-type',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-validations',
    'x-kubernetes-embedded-resource',
    // OpenAPI annotations, not validation keywords.
    'example',
  ]);
  return ajv;
}

const formatErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => {
    const where = e.instancePath || '/';
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
          : '';
    return `${where} ${e.message ?? e.keyword}${extra}`;
  });

export class CrdValidator {
  readonly #ajv = newAjv();
  readonly #load: () => Crd[];
  #crds: Crd[] | undefined;
  readonly #compiled = new Map<string, ValidateFunction>();

  /**
   * The CRDs, or how to load them. By default they are loaded from crd-source.ts's folder on first use, so that a
   * missing folder fails only the checks that need a CRD (with its one-line reason), not every object.
   */
  constructor(crds: Crd[] | (() => Crd[]) = () => loadCrds()) {
    this.#load = typeof crds === 'function' ? crds : () => crds;
  }

  get #all(): Crd[] {
    this.#crds ??= this.#load();
    return this.#crds;
  }

  /** The CRD-backed kinds it knows, as `group/version/Kind` for every served version. */
  servedKinds(): string[] {
    return this.#all.flatMap((crd) =>
      crd.spec.versions
        .filter((v) => v.served)
        .map((v) => `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`),
    );
  }

  /** Problems of one object: [] when it is valid. Built-in kinds pass (see builtInKinds); unknown kinds do not. */
  validate(object: K8sObject): string[] {
    const kindKey = `${object.apiVersion}/${object.kind}`;
    if (builtInKinds.has(kindKey)) return [];
    const structural = structuralSchemas[kindKey];
    const validator = structural ? this.#structural(kindKey, structural) : this.#fromCrd(object);
    if (typeof validator === 'string') return [validator];
    return validator(object) ? [] : formatErrors(validator.errors);
  }

  #structural(key: string, schema: Schema): ValidateFunction {
    let validate = this.#compiled.get(key);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(key, validate);
    }
    return validate;
  }

  #fromCrd(object: K8sObject): ValidateFunction | string {
    const [group, version] = object.apiVersion.includes('/')
      ? (object.apiVersion.split('/') as [string, string])
      : ['', object.apiVersion];
    const crd = this.#all.find((c) => c.spec.group === group && c.spec.names.kind === object.kind);
    if (!crd) return `no CRD for ${object.apiVersion} ${object.kind} and no structural schema`;
    const served = crd.spec.versions.find((v) => v.name === version);
    if (!served?.served) {
      const versions = crd.spec.versions.filter((v) => v.served).map((v) => v.name);
      return `${group} ${object.kind} is not served in ${version} (served: ${versions.join(', ')})`;
    }
    const key = `crd:${object.apiVersion}/${object.kind}`;
    let validate = this.#compiled.get(key);
    if (!validate) {
      const schema = closeObjects(served.schema?.openAPIV3Schema ?? {}) as Schema;
      // apiVersion, kind and metadata are the API server's; the CRD schema describes spec (and status).
      validate = this.#ajv.compile(schema);
      this.#compiled.set(key, validate);
    }
    return validate;
  }
}
