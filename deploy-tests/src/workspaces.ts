/** The npm workspaces of the repository, by package name, and their @tandem/* dependencies. */
import { readdirSync, readFileSync } from 'node:fs';
import { fromRoot } from './paths.ts';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}

const readManifest = (dir: string): Manifest | undefined => {
  try {
    return JSON.parse(readFileSync(fromRoot(dir, 'package.json'), 'utf8')) as Manifest;
  } catch {
    return undefined; // a listed workspace that is not there (yet)
  }
};

const subfolders = (parent: string) =>
  readdirSync(fromRoot(parent), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `${parent}/${d.name}`);

/** Package name → folder, for every workspace of the root package.json (`dir` or `dir/*`). */
export function workspaceFolders(): Map<string, string> {
  const root = JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { workspaces: string[] };
  const folders = new Map<string, string>();
  for (const pattern of root.workspaces) {
    for (const dir of pattern.endsWith('/*') ? subfolders(pattern.slice(0, -2)) : [pattern]) {
      const manifest = readManifest(dir);
      if (manifest) folders.set(manifest.name, dir);
    }
  }
  return folders;
}

/** The folders of these packages and of every workspace package they depend on, transitively. */
export function workspaceClosure(names: readonly string[]): { folders: string[]; missing: string[] } {
  const all = workspaceFolders();
  const seen = new Set<string>();
  const missing: string[] = [];
  const queue = [...names];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const folder = all.get(name);
    if (!folder) {
      missing.push(name);
      continue;
    }
    const dependencies = Object.keys(readManifest(folder)?.dependencies ?? {});
    queue.push(...dependencies.filter((d) => d.startsWith('@tandem/')));
  }
  return { folders: [...seen].flatMap((n) => all.get(n) ?? []), missing };
}
