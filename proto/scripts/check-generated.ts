// Fails when src/generated/ no longer matches what weather/weather.proto generates.
// Run: npm run check:generated -w @tandem/proto
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, generatedDir, listFiles } from './generate.ts';

/** Generates into a temp dir and returns the committed files that are missing, extra or different. */
export function staleFiles(): string[] {
  const tmp = mkdtempSync(join(tmpdir(), 'tandem-proto-'));
  try {
    const freshDir = join(tmp, 'generated');
    const fresh = generate(freshDir);
    const committed = listFiles(generatedDir);
    const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
    const stale: string[] = [];
    for (const file of new Set([...fresh, ...committed])) {
      if (!committed.includes(file)) stale.push(`${file} (missing)`);
      else if (!fresh.includes(file)) stale.push(`${file} (no longer generated)`);
      else if (read(freshDir, file) !== read(generatedDir, file)) stale.push(`${file} (differs)`);
    }
    return stale.sort();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const stale = staleFiles();
  if (stale.length > 0) {
    console.error(
      `src/generated/ is stale — weather/weather.proto or the generator changed:\n` +
        stale.map((file) => `  src/generated/${file}`).join('\n') +
        '\nRun `npm run generate -w @tandem/proto` and commit the result.',
    );
    process.exit(1);
  }
  console.log('src/generated/ is up to date');
}
