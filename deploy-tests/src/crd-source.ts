/**
 * Where the CustomResourceDefinitions the manifests are validated against come from. They are upstream files, never
 * copied into the repository; the first of these that exists is used:
 *
 *   1. CRDS_DIR, when set: a folder of CRD YAML (absolute, or relative to the repository root). Set but missing is
 *      an error, not a fallback, so a typo cannot silently validate against something else.
 *   2. `../shared/crds` beside the repository, where the machine has it.
 *   3. `.tools/crds/<set>/`: the pinned upstream files below, downloaded once by the test run's global setup
 *      (`ensureCrds`) on a machine that can reach GitHub, each checked against its sha256.
 *
 * Resolving is synchronous and never touches the network (`resolveCrdsDir`, called by every test worker); only
 * `ensureCrds` downloads. Without any of the three, the CRD-dependent checks fail with `noCrdsMessage`, one line.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { crdCache, repoRoot, siblingCrds } from './paths.ts';

/** The environment variable that names a CRD folder. */
export const CRDS_VARIABLE = 'CRDS_DIR';

export const noCrdsMessage =
  `no CRDs to validate against: set ${CRDS_VARIABLE} to a folder of CustomResourceDefinition YAML ` +
  '(the pinned upstream files are listed in deploy-tests/src/crd-source.ts), ' +
  'or run where ../shared/crds exists or GitHub is reachable';

/** One upstream CRD file, at the commit its release tag points to. */
export interface PinnedCrd {
  /** Where it goes in the CRD folder. */
  file: string;
  repo: string;
  tag: string;
  commit: string;
  /** Its path in `repo` at `commit`. */
  path: string;
  sha256: string;
}

/**
 * The CRDs the manifests are written for: Strimzi 0.49.1 (Kafka, KafkaTopic, KafkaNodePool), the RabbitMQ cluster
 * operator v2.22.3, KEDA v2.20.2, the messaging topology operator v1.20.1 and the Prometheus Operator v0.93.0.
 * KEDA's file is the base CRD, without the patch its release bundle applies (min 0 / max 3600 on the HPA
 * behaviour's stabilizationWindowSeconds).
 */
export const pinnedCrds: readonly PinnedCrd[] = [
  ...[
    ['040-Crd-kafka.yaml', '278627f7c428946a836b3ceded1a182dd96b7cd9f9ead5a0355c146fd02e4141'],
    ['043-Crd-kafkatopic.yaml', '9c3a187244aa762db89117df14a7af0609aa3dd068ec6cd6c7195b56af580c74'],
    ['045-Crd-kafkanodepool.yaml', '4a4adf6b73706943267ba58b902401d25f84f359da8c68c5da88fbc41c22b002'],
  ].map(([name, sha256]) => ({
    file: `strimzi/${name}`,
    repo: 'strimzi/strimzi-kafka-operator',
    tag: '0.49.1',
    commit: 'eb359e808dee4f00230ed031bd381cd2a2f94b9c',
    path: `install/cluster-operator/${name}`,
    sha256: sha256 as string,
  })),
  {
    file: 'rabbitmq/rabbitmq.com_rabbitmqclusters.yaml',
    repo: 'rabbitmq/cluster-operator',
    tag: 'v2.22.3',
    commit: '03e0b49c077a9c8d926fb4c8cbe2dd0bbdffd539',
    path: 'config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml',
    sha256: '3d12de2e4281eb91c49d9860b733b6aa741fe0f608c6a2c4160226fe4993d0de',
  },
  {
    file: 'keda/keda.sh_scaledobjects.yaml',
    repo: 'kedacore/keda',
    tag: 'v2.20.2',
    commit: '68a5b5028f35b22d50597c69819ab32c4e92f21a',
    path: 'config/crd/bases/keda.sh_scaledobjects.yaml',
    sha256: 'af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80',
  },
  ...[
    ['queues', '7dd544deb66301c4c31ba025d3d9c52fe09deff964e5f49b245f53aad02bec40'],
    ['users', '1598b2ffbba773f6fd5303d0e1c8f909b95d263be9949f480298e978439c26a2'],
    ['permissions', 'a92ba1dcec414008c6341b9ab5d508377d02809a9d6304ce780066e8f2daf940'],
  ].map(([kind, sha256]) => ({
    file: `rabbitmq/rabbitmq.com_${kind}.yaml`,
    repo: 'rabbitmq/messaging-topology-operator',
    tag: 'v1.20.1',
    commit: 'bf34d8456e5c44e861d40e265085fe2e9b8d1976',
    path: `config/crd/bases/rabbitmq.com_${kind}.yaml`,
    sha256: sha256 as string,
  })),
  {
    file: 'prometheus-operator/monitoring.coreos.com_servicemonitors.yaml',
    repo: 'prometheus-operator/prometheus-operator',
    tag: 'v0.93.0',
    commit: 'f8fafd475f3d132e239432ae6172de60a6cb6516',
    path: 'example/prometheus-operator-crd-full/monitoring.coreos.com_servicemonitors.yaml',
    sha256: 'a99047972c9dd7679ce2050b9968e8a08773492e671b3e17abd476d42aa78a32',
  },
];

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The cache folder's name: a digest of the pins, so that changing any pin downloads afresh into a new folder. */
export const pinnedSetName = (pins: readonly PinnedCrd[] = pinnedCrds) =>
  sha256(pins.map((pin) => `${pin.file} ${pin.sha256}`).join('\n')).slice(0, 12);

export class CrdsUnavailableError extends Error {
  override name = 'CrdsUnavailableError';
  constructor(message: string) {
    super(message);
    // One line is the whole story: a stack trace into this module would only bury it.
    this.stack = `${this.name}: ${message}`;
  }
}

/** The places `resolveCrdsDir` looks; tests give temporary folders. */
export interface CrdLocations {
  env: NodeJS.ProcessEnv;
  /** `../shared/crds` beside the repository. */
  sibling: string;
  /** The download folder of the pinned set. */
  cache: string;
}

export const defaultCrdLocations = (): CrdLocations => ({
  env: process.env,
  sibling: siblingCrds,
  cache: join(crdCache, pinnedSetName()),
});

export interface CrdSource {
  dir: string;
  from: typeof CRDS_VARIABLE | 'sibling' | 'download';
}

const isFolder = (path: string) => existsSync(path) && statSync(path).isDirectory();

/** The CRD folder to use now, without any network; throws CrdsUnavailableError (one line) when there is none. */
export function resolveCrdsDir(locations: CrdLocations = defaultCrdLocations()): CrdSource {
  const given = locations.env[CRDS_VARIABLE];
  if (given !== undefined && given !== '') {
    const dir = isAbsolute(given) ? given : resolve(repoRoot, given);
    if (!isFolder(dir)) {
      throw new CrdsUnavailableError(
        `${CRDS_VARIABLE}=${given} is not a folder: set ${CRDS_VARIABLE} to a folder of CustomResourceDefinition YAML, or unset it`,
      );
    }
    return { dir, from: CRDS_VARIABLE };
  }
  if (isFolder(locations.sibling)) return { dir: locations.sibling, from: 'sibling' };
  // The download renames a complete, verified folder into place: a folder here is a whole set.
  if (isFolder(locations.cache)) return { dir: locations.cache, from: 'download' };
  throw new CrdsUnavailableError(noCrdsMessage);
}

export interface DownloadOptions {
  pins?: readonly PinnedCrd[];
  /** Default https://raw.githubusercontent.com; the URL of a file is `<base>/<repo>/<commit>/<path>`. */
  baseUrl?: string;
  /** For the whole download, every file together (ms). Default 15000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export const downloadDefaults = { baseUrl: 'https://raw.githubusercontent.com', timeoutMs: 15_000 } as const;

/**
 * Downloads the pinned files into `target`, each checked against its sha256. Everything lands in a private folder
 * first and is renamed into place only when complete, so `target` either holds the whole set or does not exist
 * (and a concurrent run never sees half of it). Rejects with one line on a network error, an HTTP error, a wrong
 * checksum or the timeout.
 */
export async function downloadPinnedCrds(target: string, options: DownloadOptions = {}): Promise<void> {
  const pins = options.pins ?? pinnedCrds;
  const baseUrl = options.baseUrl ?? downloadDefaults.baseUrl;
  const timeoutMs = options.timeoutMs ?? downloadDefaults.timeoutMs;
  const get = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(timeoutMs);
  // The first failure stops the other requests: one reason is enough, and nothing is left writing into staging.
  const failed = new AbortController();
  const signal = AbortSignal.any([timeout, failed.signal]);
  mkdirSync(dirname(target), { recursive: true });
  const staging = mkdtempSync(`${target}.partial-`);
  let firstFailure: unknown;
  try {
    await Promise.all(
      pins
        .map(async (pin) => {
          const url = `${baseUrl}/${pin.repo}/${pin.commit}/${pin.path}`;
          let body: Uint8Array;
          try {
            const response = await get(url, { signal, redirect: 'follow' });
            if (!response.ok) throw new Error(`HTTP ${response.status}`);
            body = new Uint8Array(await response.arrayBuffer());
          } catch (error) {
            throw new Error(`${url}: ${reason(error, timeout, timeoutMs)}`, { cause: error });
          }
          const actual = sha256(body);
          if (actual !== pin.sha256) {
            throw new Error(`${url}: sha256 ${actual}, expected ${pin.sha256} (${pin.repo} ${pin.tag})`);
          }
          mkdirSync(dirname(join(staging, pin.file)), { recursive: true });
          writeFileSync(join(staging, pin.file), body);
        })
        .map((work) =>
          work.catch((error: unknown) => {
            firstFailure ??= error;
            failed.abort();
          }),
        ),
    );
    if (firstFailure !== undefined) throw firstFailure;
    try {
      renameSync(staging, target);
    } catch (error) {
      // Another run put a complete set there first: keep that one.
      if (!isFolder(target)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function reason(error: unknown, timeout: AbortSignal, timeoutMs: number): string {
  if (timeout.aborted) return `no complete answer within ${timeoutMs} ms`;
  const message = error instanceof Error ? error.message : String(error);
  // fetch's own message is only "fetch failed"; the cause says why (ENOTFOUND, ECONNREFUSED, a TLS error, …).
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why = typeof cause?.code === 'string' ? cause.code : cause?.message;
  return typeof why === 'string' && why !== '' ? `${message} (${why})` : message;
}

/**
 * The CRD folder, downloading the pinned set first when no folder is there yet: once per test run, from the global
 * setup. Never rejects: what went wrong is in `problem` (the download's reason is passed to `log`).
 */
export async function ensureCrds(
  options: {
    locations?: CrdLocations;
    download?: (target: string) => Promise<void>;
    log?: (line: string) => void;
  } = {},
): Promise<CrdSource | { problem: string }> {
  const locations = options.locations ?? defaultCrdLocations();
  const download = options.download ?? ((target: string) => downloadPinnedCrds(target));
  const log = options.log ?? (() => {});
  try {
    return resolveCrdsDir(locations);
  } catch (error) {
    const given = locations.env[CRDS_VARIABLE];
    // Only a missing set is downloaded; a CRDS_DIR that names nothing stays an error.
    if (!(error instanceof CrdsUnavailableError) || (given !== undefined && given !== '')) {
      return { problem: (error as Error).message };
    }
  }
  log(`downloading the pinned CRDs into ${locations.cache}`);
  try {
    await download(locations.cache);
  } catch (error) {
    log(`could not download the pinned CRDs: ${(error as Error).message}`);
    return { problem: noCrdsMessage };
  }
  try {
    return resolveCrdsDir(locations);
  } catch (error) {
    return { problem: (error as Error).message };
  }
}
