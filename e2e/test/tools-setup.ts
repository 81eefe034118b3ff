// Before any e2e file runs: the Debian packages of the browser test and the dashboards' test (Chromium, Prometheus),
// installed the way the stack installs its own (stack/src/install.ts) when they are missing.
import { ensureDebianPackages, toolPackages } from '@tandem/stack/install';

export default async function setup(): Promise<void> {
  await ensureDebianPackages(
    (message) => console.log(`e2e tools: ${message}`),
    [toolPackages.chromium, toolPackages.prometheus],
  );
}
