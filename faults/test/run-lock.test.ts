import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockRun, StackInUseError } from '../src/run-lock.ts';

const freshDir = () => mkdtempSync(join(tmpdir(), 'tandem-run-lock-'));

/** A pid that was just used and is now gone. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('one fault-suite run per private stack', () => {
  it('refuses a second run while the first holds the stack', () => {
    const dir = freshDir();
    const release = lockRun(dir);
    // A second run (another process: the vitest main process stands in for it) is refused while this one is alive.
    expect(() => lockRun(dir, process.ppid)).toThrow(StackInUseError);
    release();
    lockRun(dir, process.ppid)();
  });

  it('says who holds it and how to run beside it', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'run.lock'), `${process.ppid}\n`);
    expect(() => lockRun(dir)).toThrow(StackInUseError);
    expect(() => lockRun(dir)).toThrow(
      new RegExp(`pid ${process.ppid}\\).*FAULTS_STACK_DIR and FAULTS_STACK_PORT_OFFSET`),
    );
    // Refused: the holder's lock is untouched.
    expect(readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('takes over a lock left by a run that is gone, and releases it at the end', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'run.lock'), `${deadPid()}\n`);
    const release = lockRun(dir);
    expect(readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.pid}\n`);
    release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
    // Free again: the next run takes it.
    lockRun(dir)();
  });

  it('never removes a lock another run took meanwhile', () => {
    const dir = freshDir();
    const release = lockRun(dir);
    writeFileSync(join(dir, 'run.lock'), `${process.ppid}\n`);
    release();
    expect(readFileSync(join(dir, 'run.lock'), 'utf8')).toBe(`${process.ppid}\n`);
  });
});
