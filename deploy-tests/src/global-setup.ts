import { ensureKustomize } from './kustomize.ts';

export default function setup(): void {
  ensureKustomize((line) => console.log(`deploy-tests: ${line}`));
}
