import { ensureCrds } from './crd-source.ts';
import { ensureKustomize, progressEvery } from './kustomize.ts';

export default async function setup(): Promise<void> {
  const log = (line: string) => console.log(`deploy-tests: ${line}`);
  // `npm test` has installed kustomize already (scripts/test.sh), so this is a check of a second or less; run on
  // their own, these tests install it here.
  await ensureKustomize({ log, progress: progressEvery((line) => log(`kustomize: ${line}`)) });
  // Downloads the pinned CRDs once when no CRD folder is there. Never throws: without CRDs only the checks that
  // need them fail (each with the one-line reason), and every other test still runs.
  await ensureCrds({ log });
}
