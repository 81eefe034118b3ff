/**
 * CPU and memory of processes and of the whole machine, from /proc (Linux): what each process of the system
 * under test costs, and how busy the rest of the machine was meanwhile (the noise in a measurement).
 *
 * - CPU: utime + stime of /proc/<pid>/stat, in clock ticks; over an interval, in cores (1.0 = one core busy).
 * - Memory: VmRSS of /proc/<pid>/status sampled (its maximum over an interval), and VmHWM, the peak RSS over the
 *   process's whole life (for the stack's servers that includes everything before the benchmark).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`, 100 on every common Linux). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** cutime + cstime: CPU of the children this process has waited for (reaped), in clock ticks. */
  childrenCpuTicks: number;
}

/** Parses /proc/<pid>/stat; the command name may hold spaces and parentheses, so fields count from the last ')'. */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
    childrenCpuTicks: Number(fields[13]) + Number(fields[14]),
  };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone
  }
}

/** VmRSS and VmHWM of /proc/<pid>/status, in KiB. */
export function parseStatus(text: string): { rssKb: number; hwmKb: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

export function readMemory(pid: number): { rssKb: number; hwmKb: number } | undefined {
  try {
    return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The machine's CPU time from /proc/stat's first line, in ticks: busy (everything but idle and iowait) and total. */
export function parseMachineStat(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu ')) ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const total = values.slice(0, 8).reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

export function machineTicks(): { busy: number; total: number } {
  return parseMachineStat(readFileSync('/proc/stat', 'utf8'));
}

/** The first process under `pid` (itself included) whose command name is `comm`, e.g. RabbitMQ's `beam.smp`. */
export function findDescendant(pid: number, comm: string): number | undefined {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.push(stat);
  }
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift() as number;
    const stat = stats.find((s) => s.pid === current);
    if (stat?.comm === comm) return current;
    queue.push(...stats.filter((s) => s.ppid === current).map((s) => s.pid));
  }
  return undefined;
}

export interface Target {
  name: string;
  pid: number;
}

export interface Usage {
  /** Average CPU over the interval, in cores. */
  cpuCores: number;
  /** Largest RSS seen while sampling, MiB. */
  rssMaxMb: number;
  /** Peak RSS over the process's life (VmHWM) at the end, MiB. */
  hwmMb: number;
}

export interface MachineUsage {
  cores: number;
  /** CPU the whole machine used, in cores. */
  busyCores: number;
  /** Of that, what no measured process used: other work on the machine (noise). */
  otherCores: number;
  loadAverage1m: number;
}

/** Measures targets over an interval: CPU from the difference of two readings, RSS sampled every `everyMs`. */
export class UsageSampler {
  readonly #targets: Target[];
  readonly #startTicks = new Map<string, number>();
  readonly #rssMax = new Map<string, number>();
  #machineStart = { busy: 0, total: 0 };
  #startedAt = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(targets: readonly Target[]) {
    this.#targets = [...targets];
  }

  #reaped: { name: string; startTicks: number } | undefined;

  /**
   * Measures a child of this process that ends before `stop()` (the k6 of a step): once it has exited its
   * /proc entry is gone, but the kernel adds its CPU to ours as reaped children's time. Counts only if no other
   * child of this process is reaped meanwhile. Its RSS is sampled while it runs.
   */
  addReapedChild(target: Target): void {
    this.#targets.push(target);
    this.#reaped = { name: target.name, startTicks: readStat(process.pid)?.childrenCpuTicks ?? 0 };
  }

  start(everyMs = 500): void {
    this.#startedAt = performance.now();
    this.#machineStart = machineTicks();
    for (const target of this.#targets)
      this.#startTicks.set(target.name, readStat(target.pid)?.cpuTicks ?? 0);
    this.#rssMax.clear();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
    this.#timer.unref();
  }

  #sample(): void {
    for (const target of this.#targets) {
      const rss = readMemory(target.pid)?.rssKb ?? 0;
      this.#rssMax.set(target.name, Math.max(this.#rssMax.get(target.name) ?? 0, rss));
    }
  }

  stop(): { processes: Record<string, Usage>; machine: MachineUsage } {
    clearInterval(this.#timer);
    this.#sample();
    const seconds = (performance.now() - this.#startedAt) / 1000;
    const tick = ticksPerSecond();
    const processes: Record<string, Usage> = {};
    let measured = 0;
    for (const target of this.#targets) {
      const ticks =
        target.name === this.#reaped?.name
          ? (readStat(process.pid)?.childrenCpuTicks ?? 0) - this.#reaped.startTicks
          : (readStat(target.pid)?.cpuTicks ?? 0) - (this.#startTicks.get(target.name) ?? 0);
      const cpuCores = Math.max(0, ticks) / tick / seconds;
      measured += cpuCores;
      processes[target.name] = {
        cpuCores,
        rssMaxMb: (this.#rssMax.get(target.name) ?? 0) / 1024,
        hwmMb: (readMemory(target.pid)?.hwmKb ?? 0) / 1024,
      };
    }
    const end = machineTicks();
    const share = (end.busy - this.#machineStart.busy) / Math.max(1, end.total - this.#machineStart.total);
    const cores = machineCores();
    const busyCores = share * cores;
    return {
      processes,
      machine: {
        cores,
        busyCores,
        otherCores: Math.max(0, busyCores - measured),
        loadAverage1m: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]),
      },
    };
  }
}

export function machineCores(): number {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line)).length;
}
