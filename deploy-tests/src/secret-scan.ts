/**
 * No secret value in the deployment files: URLs carry credentials only as $(VAR) / ${VAR} references, and a
 * password-like key never has a literal value. Values are made on the cluster by k8s/secrets.sh.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fromRoot } from './paths.ts';

const isReference = (value: string) =>
  /^["']?(\$\(|\$\{|\$[A-Z_])/.test(value) || value === '' || /^["']{2}$/.test(value);

/** Problems in one file's text: `file:line: …`. */
export function scanText(file: string, text: string): string[] {
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    for (const m of line.matchAll(/\b[a-z][a-z0-9+.-]*:\/\/([^\s:/@]*):([^\s@]*)@/gi)) {
      if (!isReference(m[2] as string)) problems.push(`${where}: a URL with a literal password`);
    }
    const assignments = line.matchAll(
      /([A-Za-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key)[A-Za-z0-9_-]*)["']?\s*[:=][ \t]*([^,}\s#][^,}#]*)?/gi,
    );
    for (const [, key, raw] of assignments) {
      const value = (raw ?? '').trim();
      // Booleans and numbers are settings (automountServiceAccountToken: false), `{`/`[` open a nested value
      // (whose own keys are matched in turn), `|`/`>` a block.
      if (value !== '' && !isReference(value) && !/^([{[|>]|(true|false|\d+)$)/.test(value)) {
        problems.push(`${where}: ${key} has a literal value`);
      }
    }
  });
  return problems;
}

const SCANNED = ['k8s', 'strimzi', 'rabbitmq-operator', 'Dockerfile', '.dockerignore'];

function files(path: string): string[] {
  const full = fromRoot(path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((f) => `${path}/${f}`)
    .filter((f) => statSync(fromRoot(f)).isFile());
}

export function scanDeployment(): string[] {
  return SCANNED.flatMap(files).flatMap((file) => scanText(file, readFileSync(fromRoot(file), 'utf8')));
}
