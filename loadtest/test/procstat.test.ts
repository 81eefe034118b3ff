import { describe, expect, it } from 'vitest';
import {
  findDescendant,
  parseMachineStat,
  parseStat,
  parseStatus,
  readStat,
  UsageSampler,
} from '../src/procstat.ts';

describe('parseStat', () => {
  it('reads pid, name, parent and CPU ticks, whatever the name holds', () => {
    const line = '4242 (beam.smp (x) y) S 4200 4242 4242 0 -1 4194560 1 0 0 0 150 25 7 3 20 0 30 0 1 2 3';
    expect(parseStat(line)).toEqual({
      pid: 4242,
      comm: 'beam.smp (x) y',
      ppid: 4200,
      cpuTicks: 175,
      childrenCpuTicks: 10,
    });
  });

  it('reads this process', () => {
    const self = readStat(process.pid);
    expect(self?.pid).toBe(process.pid);
    expect(self?.ppid).toBe(process.ppid);
  });
});

describe('parseStatus', () => {
  it('reads VmRSS and VmHWM in KiB', () => {
    expect(parseStatus('Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n')).toEqual({
      rssKb: 102400,
      hwmKb: 204800,
    });
  });
});

describe('parseMachineStat', () => {
  it('counts idle and iowait as not busy', () => {
    expect(parseMachineStat('cpu  100 10 50 800 40 5 5 0 0 0\ncpu0 1 2 3 4\n')).toEqual({
      busy: 170,
      total: 1010,
    });
  });
});

describe('findDescendant', () => {
  it('finds a process by name under a pid, itself included', () => {
    const name = readStat(process.pid)?.comm as string;
    expect(findDescendant(process.pid, name)).toBe(process.pid);
    expect(findDescendant(process.pid, 'no-such-process-name')).toBeUndefined();
  });
});

describe('UsageSampler', () => {
  it('measures the CPU a busy process used, in cores', async () => {
    const sampler = new UsageSampler([{ name: 'self', pid: process.pid }]);
    sampler.start(50);
    const until = performance.now() + 300;
    while (performance.now() < until) Math.sqrt(Math.random());
    const { processes, machine } = sampler.stop();
    expect(processes.self?.cpuCores).toBeGreaterThan(0.1);
    expect(processes.self?.rssMaxMb).toBeGreaterThan(10);
    expect(machine.cores).toBeGreaterThan(0);
    expect(machine.busyCores).toBeGreaterThan(0);
  });
});
