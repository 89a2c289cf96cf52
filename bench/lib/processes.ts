/**
 * Child processes of the benchmark: started with an optional CPU pin, logged to a file, remembered
 * by PID (and start time, so a reused PID is never hit) and stopped by that PID only — on success,
 * on error, on Ctrl-C. bench/run.sh also reads BENCH_PIDFILE in its EXIT trap, in case this driver
 * itself is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { processStartTime } from './proc.js';

interface Tracked {
  child: ChildProcess;
  label: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: boolean;
}

const tracked = new Map<number, Tracked>();

export interface StartProcessOptions {
  command: string;
  args: string[];
  /** taskset CPU list, e.g. "0" or "0-1"; null: no pinning */
  cpus: string | null;
  /** stdout and stderr go here (a file, so that a chatty child never blocks on a full pipe) */
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  label: string;
}

export interface StartedProcess {
  pid: number;
  commandLine: string;
  exited: Tracked['exited'];
  isRunning(): boolean;
}

export function startProcess(options: StartProcessOptions): StartedProcess {
  const [command, args] = options.cpus === null
    ? [options.command, options.args]
    : ['taskset', ['-c', options.cpus, options.command, ...options.args]];
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${options.label}: ${command} did not start`);
  const entry: Tracked = {
    child,
    label: options.label,
    done: false,
    exited: new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        entry.done = true;
        resolve({ code, signal });
      });
      child.once('error', () => {
        entry.done = true;
        resolve({ code: null, signal: null });
      });
    }),
  };
  tracked.set(pid, entry);
  recordForCleanup(pid, false);
  return {
    pid,
    commandLine: [command, ...args].map(shellQuote).join(' '),
    exited: entry.exited,
    isRunning: () => !entry.done,
  };
}

/**
 * Note the PID (and its start time) in BENCH_PIDFILE for bench/run.sh's EXIT trap; `group`: the
 * process leads its own process group and the trap kills the whole group.
 */
export function recordForCleanup(pid: number, group: boolean): void {
  const pidFile = process.env.BENCH_PIDFILE;
  if (!pidFile) return;
  const start = processStartTime(pid);
  if (start !== null) appendFileSync(pidFile, `${pid} ${start}${group ? ' group' : ''}\n`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, graceMs = 3000): Promise<{ forced: boolean; code: number | null; signal: string | null }> {
  const entry = tracked.get(pid);
  if (entry === undefined) throw new Error(`pid ${pid} was not started by the benchmark`);
  if (entry.done) {
    tracked.delete(pid);
    const r = await entry.exited;
    return { forced: false, ...r };
  }
  entry.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    entry.exited.then((r) => ({ ...r, forced: false })),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (gone !== null) {
    tracked.delete(pid);
    return gone;
  }
  entry.child.kill('SIGKILL');
  const r = await entry.exited;
  tracked.delete(pid);
  return { forced: true, ...r };
}

/** Last resort (process 'exit', signals): SIGKILL every child still running, by its own PID. */
export function killAllSync(): void {
  for (const [pid, entry] of tracked) {
    if (!entry.done) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  tracked.clear();
}

export function tailOfFile(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
