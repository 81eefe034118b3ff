/**
 * The real kustomize, installed with `go install` into the git-ignored .tools/bin when it is missing (or another
 * version), so that a fresh machine needs only Go. Then `kustomize build` of a folder, parsed into objects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { K8sObject } from './manifests.ts';
import { fromRoot, toolsBin } from './paths.ts';

/**
 * v5.8.3, the newest, declares `go 1.27` and so does not build with this project's Go 1.26 (GOTOOLCHAIN=local: no
 * toolchain download); v5.8.2 declares `go 1.26.0`.
 */
export const KUSTOMIZE_VERSION = 'v5.8.2';
export const KUSTOMIZE_MODULE = 'sigs.k8s.io/kustomize/kustomize/v5';
export const kustomizePath = `${toolsBin}/kustomize`;

function installedVersion(): string | undefined {
  if (!existsSync(kustomizePath)) return undefined;
  try {
    return execFileSync(kustomizePath, ['version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function findGo(): string | undefined {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Makes sure .tools/bin/kustomize is KUSTOMIZE_VERSION; returns its path. Idempotent and safe to run concurrently. */
export function ensureKustomize(log: (line: string) => void = () => {}): string {
  if (installedVersion() === KUSTOMIZE_VERSION) return kustomizePath;
  const go = findGo();
  if (!go) {
    throw new Error(
      `kustomize ${KUSTOMIZE_VERSION} is not in .tools/bin and Go is not on PATH to install it ` +
        `(go install ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION})`,
    );
  }
  log(
    `installing kustomize ${KUSTOMIZE_VERSION} into .tools/bin (go install, about a minute the first time)`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env, GOTOOLCHAIN: 'local' };
  // Without HOME (a stripped environment) Go has no default cache folders: keep them under .tools then.
  if (!env.HOME && !env.GOCACHE) env.GOCACHE = fromRoot('.tools', 'go', 'cache');
  if (!env.HOME && !env.GOPATH && !env.GOMODCACHE) {
    env.GOPATH = fromRoot('.tools', 'go');
    env.GOFLAGS = `${env.GOFLAGS ?? ''} -modcacherw`.trim();
  }
  mkdirSync(toolsBin, { recursive: true });
  // Into a private folder first, then one rename: a concurrent run never sees half a binary.
  const staging = mkdtempSync(`${toolsBin}/.kustomize-`);
  try {
    execFileSync(go, ['install', `${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION}`], {
      cwd: staging,
      env: { ...env, GOBIN: staging },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    renameSync(`${staging}/kustomize`, kustomizePath);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const version = installedVersion();
  if (version !== KUSTOMIZE_VERSION) {
    throw new Error(`installed kustomize reports ${version ?? 'nothing'}, expected ${KUSTOMIZE_VERSION}`);
  }
  return kustomizePath;
}

/** `kustomize build DIR` (DIR relative to the repository root), as objects. Throws with kustomize's message. */
export function kustomizeBuild(dir: string): K8sObject[] {
  let output: string;
  try {
    output = execFileSync(ensureKustomize(), ['build', fromRoot(dir)], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`kustomize build ${dir} failed: ${stderr.trim() || String(error)}`);
  }
  return parseManifests(output, dir);
}

/** Multi-document YAML → objects; a YAML error names the source. */
export function parseManifests(text: string, source: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`${source}: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}
