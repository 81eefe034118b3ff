/**
 * The Dockerfile, read as a builder would: instructions, stages, build arguments, and the build context left by
 * .dockerignore. Enough to check that what the containers run is in the image.
 */
import { existsSync, readFileSync } from 'node:fs';
import { matchesGlob } from 'node:path';
import { fromRoot } from './paths.ts';

export interface Instruction {
  keyword: string;
  args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Stages, with global ARG defaults substituted in FROM. */
export function stages(instructions: readonly Instruction[]): {
  args: Record<string, string>;
  stages: Stage[];
} {
  const args: Record<string, string> = {};
  const result: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.args.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => args[a ?? b] ?? '');
      result.push({ from, ...(as?.toUpperCase() === 'AS' && name ? { name } : {}), instructions: [] });
    } else if (result.length === 0 && instruction.keyword === 'ARG') {
      const [name = '', value = ''] = instruction.args.split('=');
      args[name] = value;
    } else {
      result.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages: result };
}

/** .dockerignore as Docker applies it: the last matching pattern wins, `!` re-includes; a parent folder's match counts. */
export function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const excludedItself = (path: string) => {
    let excluded = false;
    for (const pattern of patterns) {
      const negated = pattern.startsWith('!');
      if (matchesGlob(path, negated ? pattern.slice(1) : pattern)) excluded = !negated;
    }
    return excluded;
  };
  return (path: string) => {
    const parts = path.replace(/\/$/, '').split('/');
    return parts.some((_, i) => excludedItself(parts.slice(0, i + 1).join('/')));
  };
}

export interface Image {
  args: Record<string, string>;
  stages: Stage[];
  final: Stage;
  /** Whether a repository path is sent in the build context. */
  inContext: (path: string) => boolean;
  /** Repository paths the final stage copies from the context (folders end with '/'). */
  copied: string[];
  user?: string;
  cmd?: string[];
  /** The final stage's ENV, as the containers get it (the later of a repeated name wins). */
  env: Record<string, string>;
}

/** `ENV NAME=value NAME2="a value"` (the legacy `ENV NAME value` form is not used here). */
export function envOf(instructions: readonly Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const instruction of instructions.filter((i) => i.keyword === 'ENV')) {
    for (const [, name, quoted, bare] of instruction.args.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)) {
      env[name as string] = quoted ?? bare ?? '';
    }
  }
  return env;
}

export function readImage(
  dockerfile = readFileSync(fromRoot('Dockerfile'), 'utf8'),
  ignore = readFileSync(fromRoot('.dockerignore'), 'utf8'),
): Image {
  const parsed = stages(parseDockerfile(dockerfile));
  const final = parsed.stages.at(-1);
  if (!final) throw new Error('the Dockerfile has no FROM');
  const ignored = dockerignore(ignore);
  const copied = final.instructions
    .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) =>
      i.args
        .split(/\s+/)
        .filter((a) => !a.startsWith('--'))
        .slice(0, -1),
    );
  const cmd = final.instructions.findLast((i) => i.keyword === 'CMD');
  return {
    ...parsed,
    final,
    inContext: (path) => !ignored(path),
    copied,
    user: final.instructions.findLast((i) => i.keyword === 'USER')?.args,
    cmd: cmd ? (JSON.parse(cmd.args) as string[]) : undefined,
    env: envOf(final.instructions),
  };
}

/** Whether a repository file ends up in the image: in the context, and under something the final stage copies. */
export function inImage(image: Image, path: string): boolean {
  return (
    existsSync(fromRoot(path)) &&
    image.inContext(path) &&
    image.copied.some((source) => (source.endsWith('/') ? path.startsWith(source) : path === source))
  );
}
