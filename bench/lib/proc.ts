/** Linux /proc readers: CPU time and memory of one process, machine-wide CPU, and the host's description. */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';

let clockTicks: number | undefined;

/** USER_HZ, the unit of /proc/PID/stat times (100 nearly everywhere). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Fields of /proc/PID/stat after the "(comm)" field, so that field N of proc(5) is at index N - 3. */
function statFields(pid: number): string[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  return text.slice(close + 2).trim().split(' ');
}

/** utime + stime of a process (all its threads), in microseconds; null when it is gone. */
export function processCpuMicros(pid: number): number | null {
  const f = statFields(pid);
  if (f === null) return null;
  const ticks = Number(f[14 - 3]) + Number(f[15 - 3]);
  return (ticks * 1e6) / clkTck();
}

/** utime + stime + cutime + cstime: the process's CPU plus that of its children it has reaped, µs. */
function cpuWithReapedChildrenMicros(pid: number): number | null {
  const f = statFields(pid);
  if (f === null) return null;
  const ticks = Number(f[14 - 3]) + Number(f[15 - 3]) + Number(f[16 - 3]) + Number(f[17 - 3]);
  return (ticks * 1e6) / clkTck();
}

/** `pid` and all its live descendants (a server with worker processes: node:cluster, fork()). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[4 - 3]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (statFields(next) === null) continue;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

/**
 * CPU µs of a whole process tree: every live member's own time plus what it has reaped from
 * children that already exited (so a worker that dies mid-run is still counted). null: root gone.
 */
export function treeCpuMicros(pid: number): { micros: number; processes: number } | null {
  const tree = processTree(pid);
  if (tree.length === 0) return null;
  let micros = 0;
  for (const member of tree) micros += cpuWithReapedChildrenMicros(member) ?? 0;
  return { micros, processes: tree.length };
}

/** Field 22 (starttime): with the pid it names one process for good, even after pid reuse. */
export function processStartTime(pid: number): string | null {
  const f = statFields(pid);
  return f === null ? null : (f[22 - 3] ?? null);
}

export interface MemoryKiB {
  rssKiB: number;
  hwmKiB: number;
}

/** VmRSS (resident now) and VmHWM (peak resident since start) from /proc/PID/status. */
export function processMemory(pid: number): MemoryKiB | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
}

/** Memory of a process tree: RSS summed; peak = sum of each process's own VmHWM (an upper bound). */
export function treeMemory(pid: number): (MemoryKiB & { processes: number; threads: number }) | null {
  const tree = processTree(pid);
  if (tree.length === 0) return null;
  let rssKiB = 0;
  let hwmKiB = 0;
  let threads = 0;
  for (const member of tree) {
    const m = processMemory(member);
    if (m === null) continue;
    rssKiB += m.rssKiB;
    hwmKiB += m.hwmKiB;
    threads += processThreads(member) ?? 0;
  }
  return { rssKiB, hwmKiB, processes: tree.length, threads };
}

export function processThreads(pid: number): number | null {
  try {
    return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return null;
  }
}

export interface SystemCpu {
  /** user + nice + system + irq + softirq, µs summed over all CPUs */
  busyMicros: number;
  stealMicros: number;
  totalMicros: number;
}

export function systemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .map(Number);
  const us = 1e6 / clkTck();
  return {
    busyMicros: (user + nice + system + irq + softirq) * us,
    stealMicros: steal * us,
    totalMicros: (user + nice + system + idle + iowait + irq + softirq + steal) * us,
  };
}

/** CPU µs of every process on the machine, to tell afterwards how much else ran during a measurement. */
export function allProcessesCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const micros = processCpuMicros(Number(entry));
    if (micros !== null) out.set(Number(entry), micros);
  }
  return out;
}

/** CPU µs used between two snapshots by processes other than `exclude` (processes born in between count in full). */
export function otherProcessesCpu(before: Map<number, number>, after: Map<number, number>, exclude: Set<number>): number {
  let sum = 0;
  for (const [pid, micros] of after) {
    if (exclude.has(pid)) continue;
    sum += Math.max(0, micros - (before.get(pid) ?? 0));
  }
  return sum;
}

export interface HostInfo {
  hostname: string;
  nproc: number;
  cpuModel: string;
  kernel: string;
  memoryGiB: number;
  node: string;
  virtualised: string | null;
}

export function hostInfo(): HostInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  let virtualised: string | null = null;
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpuModel;
    if (/^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)) virtualised = 'hypervisor flag set';
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    hostname: os.hostname(),
    nproc: os.availableParallelism(),
    cpuModel,
    kernel: `${os.type()} ${os.release()}`,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    virtualised,
  };
}

/** The biggest CPU users among other processes between two snapshots: "comm (pid) ms", for warnings. */
export function topOtherProcesses(before: Map<number, number>, after: Map<number, number>, exclude: Set<number>, n = 3): string[] {
  return [...after.entries()]
    .filter(([pid]) => !exclude.has(pid))
    .map(([pid, micros]) => ({ pid, micros: micros - (before.get(pid) ?? 0) }))
    .filter((p) => p.micros > 0)
    .sort((a, b) => b.micros - a.micros)
    .slice(0, n)
    .map(({ pid, micros }) => {
      let comm = '?';
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        // gone meanwhile
      }
      return `${comm} (${pid}) ${Math.round(micros / 1000)} ms`;
    });
}
