import { ensureCrds } from './crd-source.ts';
import { ensureKustomize } from './kustomize.ts';

export default async function setup(): Promise<void> {
  const log = (line: string) => console.log(`deploy-tests: ${line}`);
  ensureKustomize(log);
  // Downloads the pinned CRDs once when no CRD folder is there. Never throws: without CRDs only the checks that
  // need them fail (each with the one-line reason), and every other test still runs.
  await ensureCrds({ log });
}
