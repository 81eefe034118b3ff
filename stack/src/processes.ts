/**
 * Local server processes: started detached (they outlive the command that started them), tracked by a pid file,
 * stopped with SIGTERM and, if they do not stop in time, SIGKILL.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

export const run = promisify(execFile);

export class StackError extends Error {
  override name = 'StackError';
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid recorded in `pidFile`, if that process still runs. */
export function runningPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

export function startDetached(
  command: string,
  args: readonly string[],
  options: { pidFile: string; logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): number {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    if (child.pid === undefined) throw new StackError(`could not start ${command}`);
    child.unref();
    writeFileSync(options.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, wait up to `graceMs` for a clean exit, then SIGKILL. Removes the pid file. */
export async function stopPid(pidFile: string, graceMs = 30_000): Promise<boolean> {
  const pid = runningPid(pidFile);
  if (pid !== undefined) {
    // Signal the whole process group: launcher scripts (RabbitMQ's) run the server as a child.
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        if (isAlive(pid)) process.kill(pid, sig);
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signal('SIGKILL');
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFile, { force: true });
  return pid !== undefined;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Names the process listening on a port (from `ss`), for a clear "port taken" message. */
export async function portOwner(port: number): Promise<string> {
  try {
    const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`]);
    const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(stdout);
    return match ? `${match[1]} (pid ${match[2]})` : 'another process';
  } catch {
    return 'another process';
  }
}

/** Polls `probe` until it returns a value; a probe that throws means "not yet". */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  options: { timeoutMs: number; isAlive?: () => boolean; logFile?: string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (options.isAlive && !options.isAlive()) {
      throw new StackError(
        `${what} exited while starting${options.logFile ? `; see ${options.logFile}` : ''}`,
      );
    }
    try {
      return await probe();
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new StackError(
    `${what} did not answer within ${options.timeoutMs / 1000}s${reason}${options.logFile ? `; see ${options.logFile}` : ''}`,
  );
}
