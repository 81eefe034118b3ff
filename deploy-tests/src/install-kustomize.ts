/**
 * `node deploy-tests/src/install-kustomize.ts`: makes sure the pinned kustomize is in .tools/bin, building it with
 * `go install` when it is missing (about a minute cold). `npm test` runs it once, right after the stack is up and
 * before turbo runs the packages' tests two at a time, so that the build competes with no test for the CPU. Progress
 * goes to stderr; the binary's path is the last line on stdout.
 */
import { ensureKustomize, type InstallProgress, progressEvery } from './kustomize.ts';

const tty = process.stderr.isTTY === true;
const label = tty && !process.env.NO_COLOR ? '\x1b[36mkustomize\x1b[0m' : 'kustomize';
const say = (line: string) => process.stderr.write(`${label} ${line}\n`);
let drawn = false;
const progress = tty
  ? ({ downloaded, compiled }: InstallProgress) => {
      process.stderr.write(`\r${label} ${downloaded} modules downloaded, ${compiled} packages compiled `);
      drawn = true;
    }
  : progressEvery(say);

try {
  const path = await ensureKustomize({
    log: (line) => {
      if (drawn) process.stderr.write('\n');
      drawn = false;
      say(line);
    },
    progress,
  });
  console.log(path);
} catch (error) {
  if (drawn) process.stderr.write('\n');
  say((error as Error).message);
  process.exitCode = 1;
}
