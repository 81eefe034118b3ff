// The Debian packages of the browser test and the dashboards' test (Chromium, Prometheus), installed the way the
// stack installs its own (stack/src/install.ts) when they are missing: before any e2e file runs (vitest's
// globalSetup), and by `npm test` up front (`node e2e/test/tools-setup.ts`), before the packages' tests compete for
// the CPU.
import { fileURLToPath } from 'node:url';
import { ensureDebianPackages, toolPackages } from '@tandem/stack/install';

export default async function setup(): Promise<void> {
  await ensureDebianPackages(
    (message) => console.log(`e2e tools: ${message}`),
    [toolPackages.chromium, toolPackages.prometheus],
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await setup();
