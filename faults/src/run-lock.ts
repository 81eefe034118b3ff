/**
 * One fault-suite run at a time per private stack: the suite stops and restarts that stack's brokers, so a second run
 * on the same folder would break the first one's faults and read its messages as lost or doubled. The lock is a
 * file created atomically (`wx`) holding the owner's pid; a lock whose process is gone (a run that was killed) is
 * taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StackInUseError extends Error {
  override name = 'StackInUseError';
}

/** Takes the lock of `dir` for this process; returns its release. Throws StackInUseError while another run holds it. */
export function lockRun(dir: string, pid = process.pid): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'run.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return () => {
        if (ownerOf(file) === pid) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = ownerOf(file);
      if (owner !== undefined && owner !== pid && isAlive(owner)) {
        throw new StackInUseError(
          `another fault-suite run (pid ${owner}) is using the stack in ${dir}; wait for it to end, or give this ` +
            'run a stack of its own with FAULTS_STACK_DIR and FAULTS_STACK_PORT_OFFSET',
        );
      }
      // Left by a run that is gone (or unreadable): take it over.
      rmSync(file, { force: true });
    }
  }
  throw new StackInUseError(`could not take the lock ${file}: another run keeps taking it`);
}

function ownerOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
