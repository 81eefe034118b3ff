/**
 * The real kustomize, installed with `go install` into the git-ignored .tools/bin when it is missing (or another
 * version), so that a fresh machine needs only Go. `npm test` installs it before the packages' tests run
 * (scripts/test.sh: `node deploy-tests/src/install-kustomize.ts`); the tests' global setup checks it again, and
 * installs it only when this package's tests run on their own. Then `kustomize build` of a folder, parsed into
 * objects.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
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

function installedVersion(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return execFileSync(path, ['version'], { encoding: 'utf8' }).trim();
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

/** How far a `go install -v` has got: modules downloaded and packages compiled so far. */
export interface InstallProgress {
  downloaded: number;
  compiled: number;
}

export interface EnsureOptions {
  /** One line per event: installing, installed. */
  log?: (line: string) => void;
  /** Called on each module downloaded and each package compiled, while installing. */
  progress?: (progress: InstallProgress) => void;
  /** Where the binary goes (.tools/bin unless told). */
  bin?: string;
}

/**
 * Makes sure `<bin>/kustomize` is KUSTOMIZE_VERSION, installing it when it is not; returns its path. Idempotent,
 * and safe to run concurrently: each install builds into a private folder, then moves the binary in with one rename.
 */
export async function ensureKustomize(options: EnsureOptions = {}): Promise<string> {
  const { log = () => {}, progress = () => {}, bin = toolsBin } = options;
  const target = `${bin}/kustomize`;
  if (installedVersion(target) === KUSTOMIZE_VERSION) return target;
  const go = findGo();
  if (!go) {
    throw new Error(
      `kustomize ${KUSTOMIZE_VERSION} is not in ${bin} and Go is not on PATH to install it ` +
        `(go install ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION})`,
    );
  }
  log(`installing kustomize ${KUSTOMIZE_VERSION} into ${bin} (go install, about a minute the first time)`);
  const started = Date.now();
  mkdirSync(bin, { recursive: true });
  const staging = mkdtempSync(`${bin}/.kustomize-`);
  try {
    await goInstall(go, staging, progress);
    renameSync(`${staging}/kustomize`, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const version = installedVersion(target);
  if (version !== KUSTOMIZE_VERSION) {
    throw new Error(`installed kustomize reports ${version ?? 'nothing'}, expected ${KUSTOMIZE_VERSION}`);
  }
  log(`kustomize ${version} installed in ${Math.round((Date.now() - started) / 1000)}s`);
  return target;
}

/** `go install -v` of the pinned kustomize into `gobin`; `-v` names each package as it is compiled. */
function goInstall(go: string, gobin: string, progress: (progress: InstallProgress) => void): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, GOTOOLCHAIN: 'local', GOBIN: gobin };
  // Without HOME (a stripped environment) Go has no default cache folders: keep them under .tools then.
  if (!env.HOME && !env.GOCACHE) env.GOCACHE = fromRoot('.tools', 'go', 'cache');
  if (!env.HOME && !env.GOPATH && !env.GOMODCACHE) {
    env.GOPATH = fromRoot('.tools', 'go');
    env.GOFLAGS = `${env.GOFLAGS ?? ''} -modcacherw`.trim();
  }
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', '-v', `${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION}`], {
      cwd: gobin,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const counts: InstallProgress = { downloaded: 0, compiled: 0 };
    const messages: string[] = [];
    // Go writes everything to stderr: `go: downloading <module>`, other `go: …` messages, and the package names.
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.startsWith('go: downloading ')) counts.downloaded += 1;
      else if (line.startsWith('go: ') || /\s/.test(line.trim())) messages.push(line);
      else counts.compiled += 1;
      progress({ ...counts });
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `go install ${KUSTOMIZE_MODULE}@${KUSTOMIZE_VERSION} failed (${signal ?? `exit ${code}`}): ` +
              messages.slice(-20).join('\n'),
          ),
        );
    });
  });
}

/**
 * Progress as lines for a log that is not a terminal: one line every `every` compiled packages. (On a terminal the
 * install CLI rewrites one line instead.)
 */
export function progressEvery(log: (line: string) => void, every = 100): (progress: InstallProgress) => void {
  let shown = 0;
  return ({ downloaded, compiled }) => {
    if (compiled >= shown + every) {
      shown = compiled - (compiled % every);
      log(`${downloaded} modules downloaded, ${compiled} packages compiled`);
    }
  };
}

let verified = false;
/** The installed kustomize's path; throws when it is not KUSTOMIZE_VERSION (ensureKustomize installs it). */
function installedKustomize(): string {
  if (!verified && installedVersion(kustomizePath) !== KUSTOMIZE_VERSION) {
    throw new Error(
      `kustomize ${KUSTOMIZE_VERSION} is not in .tools/bin: node deploy-tests/src/install-kustomize.ts installs it ` +
        "(so does the tests' global setup)",
    );
  }
  verified = true;
  return kustomizePath;
}

/** `kustomize build DIR` (DIR relative to the repository root), as objects. Throws with kustomize's message. */
export function kustomizeBuild(dir: string): K8sObject[] {
  let output: string;
  try {
    output = execFileSync(installedKustomize(), ['build', fromRoot(dir)], {
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
