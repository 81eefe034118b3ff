/**
 * Where the CRDs come from (src/crd-source.ts): the order CRDS_DIR → ../shared/crds → the downloaded pinned set,
 * and the download itself against a local HTTP server (this suite never needs GitHub).
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CrdLocations,
  CrdsUnavailableError,
  downloadPinnedCrds,
  ensureCrds,
  noCrdsMessage,
  type PinnedCrd,
  pinnedCrds,
  pinnedSetName,
  resolveCrdsDir,
} from '../src/crd-source.ts';
import { CrdValidator, loadCrds } from '../src/crds.ts';
import type { K8sObject } from '../src/manifests.ts';
import { repoRoot } from '../src/paths.ts';

const crdYaml = (kind: string) => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: ${kind.toLowerCase()}s.example.com }
spec:
  group: example.com
  names: { kind: ${kind}, plural: ${kind.toLowerCase()}s }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            apiVersion: { type: string }
            kind: { type: string }
            metadata: { type: object }
            spec: { type: object, properties: { size: { type: integer } } }
`;

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'crd-source-'));
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

/** Creates `name` under the scratch folder, with one CRD in it when `withCrd`. */
function folder(name: string, withCrd = true): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'group'), { recursive: true });
  if (withCrd) writeFileSync(join(dir, 'group', 'widget.yaml'), crdYaml('Widget'));
  return dir;
}

const locations = (env: NodeJS.ProcessEnv = {}): CrdLocations => ({
  env,
  sibling: join(scratch, 'sibling'),
  cache: join(scratch, 'cache', 'set'),
});

describe('resolveCrdsDir', () => {
  it('takes CRDS_DIR first, even when ../shared/crds and the download exist', () => {
    const given = folder('given');
    folder('sibling');
    folder('cache/set');
    expect(resolveCrdsDir(locations({ CRDS_DIR: given }))).toEqual({ dir: given, from: 'CRDS_DIR' });
  });

  it('reads a relative CRDS_DIR from the repository root', () => {
    const relative = join('deploy-tests', 'test');
    expect(resolveCrdsDir(locations({ CRDS_DIR: relative })).dir).toBe(join(repoRoot, relative));
  });

  it('refuses a CRDS_DIR that is not a folder, in one line naming it, instead of falling back', () => {
    folder('sibling');
    const resolving = () => resolveCrdsDir(locations({ CRDS_DIR: '/nonexistent' }));
    expect(resolving).toThrow(CrdsUnavailableError);
    expect(resolving).toThrow(/^CRDS_DIR=\/nonexistent is not a folder: set CRDS_DIR to a folder of/);
    expect(() => resolving()).not.toThrow(/\n/);
  });

  it('takes ../shared/crds next, then the downloaded set', () => {
    const cache = folder('cache/set');
    expect(resolveCrdsDir(locations())).toEqual({ dir: cache, from: 'download' });
    const sibling = folder('sibling');
    expect(resolveCrdsDir(locations())).toEqual({ dir: sibling, from: 'sibling' });
    expect(resolveCrdsDir(locations({ CRDS_DIR: '' }))).toEqual({ dir: sibling, from: 'sibling' });
  });

  it('without any of them, says so in one line that names CRDS_DIR', () => {
    expect(() => resolveCrdsDir(locations())).toThrow(noCrdsMessage);
    expect(noCrdsMessage).toMatch(/^no CRDs to validate against: set CRDS_DIR to a folder of/);
    expect(noCrdsMessage).not.toMatch(/\n/);
  });
});

describe('loadCrds and CrdValidator', () => {
  it('reads CRDs from the folder and its subfolders, multi-document files included', () => {
    const dir = folder('given');
    writeFileSync(
      join(dir, 'bundle.yml'),
      `${crdYaml('Gadget')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: skipped }\n`,
    );
    expect(loadCrds(dir).map((crd) => crd.spec.names.kind)).toEqual(['Gadget', 'Widget']);
  });

  it('refuses a folder without a CRD, in one line', () => {
    const dir = folder('empty', false);
    expect(() => loadCrds(dir)).toThrow(`no CustomResourceDefinition in the YAML files of ${dir}`);
  });

  it('loads only when a custom resource needs a CRD, so the other checks run without one', () => {
    const validator = new CrdValidator(() => {
      throw new CrdsUnavailableError(noCrdsMessage);
    });
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge-api' } } as K8sObject;
    expect(validator.validate(service)).toEqual([]);
    const widget = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } } as K8sObject;
    expect(() => validator.validate(widget)).toThrow(noCrdsMessage);
  });

  it('validates against CRDs it loads', () => {
    const validator = new CrdValidator(() => loadCrds(folder('given')));
    const widget = (size: unknown) =>
      ({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w' },
        spec: { size },
      }) as K8sObject;
    expect(validator.validate(widget(3))).toEqual([]);
    expect(validator.validate(widget('three'))).toEqual(['/spec/size must be integer']);
  });
});

describe('the pinned set', () => {
  it('names every file once, at a full commit, with a sha256', () => {
    expect(new Set(pinnedCrds.map((pin) => pin.file)).size).toBe(pinnedCrds.length);
    for (const pin of pinnedCrds) {
      expect(pin.commit, pin.file).toMatch(/^[0-9a-f]{40}$/);
      expect(pin.sha256, pin.file).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('is cached under a name that changes with the pins', () => {
    const [first, ...rest] = pinnedCrds as [PinnedCrd, ...PinnedCrd[]];
    expect(pinnedSetName()).toMatch(/^[0-9a-f]{12}$/);
    expect(pinnedSetName([{ ...first, sha256: '0'.repeat(64) }, ...rest])).not.toBe(pinnedSetName());
  });
});

describe('downloadPinnedCrds', () => {
  const files: Record<string, string> = {
    '/owner/widgets/1111111111111111111111111111111111111111/crds/widget.yaml': crdYaml('Widget'),
    '/owner/gadgets/2222222222222222222222222222222222222222/crds/gadget.yaml': crdYaml('Gadget'),
  };
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');
  const pins: PinnedCrd[] = [
    ['owner/widgets', '1111111111111111111111111111111111111111', 'widget'],
    ['owner/gadgets', '2222222222222222222222222222222222222222', 'gadget'],
  ].map(([repo, commit, name]) => ({
    file: `${name}s/${name}.yaml`,
    repo: repo as string,
    tag: 'v1',
    commit: commit as string,
    path: `crds/${name}.yaml`,
    sha256: sha(files[`/${repo}/${commit}/crds/${name}.yaml`] as string),
  }));
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      const body = files[request.url ?? ''];
      if (body === undefined) response.writeHead(404).end();
      else response.writeHead(200, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('puts every file in place, verified, and resolveCrdsDir then finds the set', async () => {
    const { cache } = locations();
    await downloadPinnedCrds(cache, { pins, baseUrl });
    expect(readFileSync(join(cache, 'widgets', 'widget.yaml'), 'utf8')).toBe(crdYaml('Widget'));
    expect(resolveCrdsDir(locations())).toEqual({ dir: cache, from: 'download' });
    expect(loadCrds(cache)).toHaveLength(2);
    // Nothing left beside it.
    expect(readdirSync(join(scratch, 'cache'))).toEqual(['set']);
  });

  it('refuses a file whose sha256 differs, and leaves no set behind', async () => {
    const { cache } = locations();
    const tampered = pins.map((pin, index) => (index === 1 ? { ...pin, sha256: '0'.repeat(64) } : pin));
    await expect(downloadPinnedCrds(cache, { pins: tampered, baseUrl })).rejects.toThrow(
      /gadget\.yaml: sha256 [0-9a-f]{64}, expected 0{64}/,
    );
    expect(existsSync(join(scratch, 'cache')) ? readdirSync(join(scratch, 'cache')) : []).toEqual([]);
  });

  it('fails on an HTTP error with the URL and status', async () => {
    const missing = [{ ...(pins[0] as PinnedCrd), path: 'crds/none.yaml' }];
    await expect(downloadPinnedCrds(locations().cache, { pins: missing, baseUrl })).rejects.toThrow(
      /\/crds\/none\.yaml: HTTP 404$/,
    );
  });

  it('fails fast when nothing answers: a refused connection at once, silence within the timeout', async () => {
    const { cache } = locations();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    let started = Date.now();
    await expect(downloadPinnedCrds(cache, { pins, baseUrl: closedUrl })).rejects.toThrow(
      /fetch failed \(ECONNREFUSED\)/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);

    const silent: typeof fetch = (_url, init) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    started = Date.now();
    await expect(downloadPinnedCrds(cache, { pins, baseUrl, fetch: silent, timeoutMs: 200 })).rejects.toThrow(
      /no complete answer within 200 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(existsSync(cache)).toBe(false);
  });
});

describe('ensureCrds', () => {
  it('downloads only when no folder is there, and then resolves to the download', async () => {
    const targets: string[] = [];
    const download = async (target: string) => {
      targets.push(target);
      folder('cache/set');
    };
    const sibling = folder('sibling');
    expect(await ensureCrds({ locations: locations(), download })).toEqual({ dir: sibling, from: 'sibling' });
    rmSync(sibling, { recursive: true });
    expect(await ensureCrds({ locations: locations(), download })).toEqual({
      dir: locations().cache,
      from: 'download',
    });
    expect(await ensureCrds({ locations: locations(), download })).toMatchObject({ from: 'download' });
    expect(targets).toEqual([locations().cache]);
  });

  it('never downloads for a CRDS_DIR that names nothing: its own one line', async () => {
    const download = async () => {
      throw new Error('must not be called');
    };
    expect(await ensureCrds({ locations: locations({ CRDS_DIR: '/nonexistent' }), download })).toEqual({
      problem: expect.stringMatching(/^CRDS_DIR=\/nonexistent is not a folder/),
    });
  });

  it('when the download fails: logs why, and answers the one line naming CRDS_DIR', async () => {
    const lines: string[] = [];
    const download = async () => {
      throw new Error('https://raw.githubusercontent.com/…: fetch failed (ENOTFOUND)');
    };
    expect(await ensureCrds({ locations: locations(), download, log: (line) => lines.push(line) })).toEqual({
      problem: noCrdsMessage,
    });
    expect(lines.at(-1)).toMatch(/^could not download the pinned CRDs: .*ENOTFOUND/);
  });
});
