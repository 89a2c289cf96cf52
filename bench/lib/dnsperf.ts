/**
 * Run dnsperf once and read its output: the final statistics, the per-second rate (-S 1), and —
 * with -v, which prints one line per answer with its latency — the latency percentiles that
 * dnsperf 2.x does not compute itself. dnsperf runs under `bash -c '…; times'` so that its own CPU
 * time (user + system of the child) is known exactly.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { recordForCleanup, shellQuote } from './processes.js';

export interface DnsperfRun {
  host: string;
  port: number;
  dataFile: string;
  binary: boolean;
  durationS: number;
  clients: number;
  threads: number;
  maxOutstanding: number;
  offeredQps?: number;
  /** `-E code:hex` options */
  ednsOptions: string[];
  /** per-query latency lines (-v) for percentiles */
  perQuery: boolean;
  /** seconds before an unanswered query counts as lost */
  timeoutS: number;
  cpus: string | null;
  /** files stdout/stderr are written to */
  outFile: string;
  errFile: string;
}

export interface LatencyStats {
  avgMs: number;
  minMs: number;
  maxMs: number;
  stddevMs: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  p999Ms?: number;
  samples?: number;
  /**
   * p99 of each second's answers (answers in the order dnsperf printed them, cut into runs of
   * one second's worth at the measured rate): shows whether a run's p99 comes from all of it or
   * from a few bad seconds. A diagnostic; targets are judged on the whole run.
   */
  perSecondP99Ms?: number[];
}

export interface DnsperfResult {
  args: string[];
  commandLine: string;
  exitCode: number | null;
  sent: number;
  completed: number;
  lost: number;
  interrupted: number;
  qps: number;
  runTimeS: number;
  rcodes: Record<string, number>;
  requestBytes: number;
  responseBytes: number;
  latency: LatencyStats;
  /** queries per second in each 1 s interval (-S 1) */
  perSecondQps: number[];
  /** dnsperf's own CPU (user + system), µs */
  clientCpuMicros: number | null;
  warnings: string[];
}

/** Process group (= PID of the bash wrapper) of the dnsperf run in progress. */
let running: number | null = null;

/** Stop the dnsperf run in progress, if any: SIGKILL to the group its wrapper leads. */
export function killRunningDnsperf(): void {
  if (running === null) return;
  try {
    process.kill(-running, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function dnsperfVersion(): string | null {
  try {
    const text = execFileSync('dnsperf', ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /Version\s+(\S+)/.exec(text)?.[1] ?? null;
  } catch (error) {
    const out = `${(error as { stdout?: string }).stdout ?? ''}${(error as { stderr?: string }).stderr ?? ''}`;
    return /Version\s+(\S+)/.exec(out)?.[1] ?? null;
  }
}

export function dnsperfArgs(run: DnsperfRun): string[] {
  const args = [
    '-s', run.host,
    '-p', String(run.port),
    '-d', run.dataFile,
    '-l', String(run.durationS),
    '-c', String(run.clients),
    '-T', String(run.threads),
    '-q', String(run.maxOutstanding),
    '-t', String(run.timeoutS),
    '-S', '1',
  ];
  if (run.binary) args.push('-B');
  if (run.offeredQps !== undefined) args.push('-Q', String(run.offeredQps));
  for (const option of run.ednsOptions) args.push('-E', option);
  if (run.perQuery) args.push('-v');
  return args;
}

export async function runDnsperf(run: DnsperfRun): Promise<DnsperfResult> {
  const args = dnsperfArgs(run);
  const timesFile = `${run.outFile}.times`;
  const pin = run.cpus === null ? '' : `taskset -c ${shellQuote(run.cpus)} `;
  // `times` prints the shell's and then its children's user/system time: the second line is dnsperf's.
  const script = `${pin}dnsperf "$@" >${shellQuote(run.outFile)} 2>${shellQuote(run.errFile)}; rc=$?; times >${shellQuote(timesFile)}; exit $rc`;
  // Its own process group (detached), so that a hang or Ctrl-C can stop the wrapper and dnsperf together.
  const child = spawn('bash', ['-c', script, 'bash', ...args], { stdio: 'ignore', detached: true });
  const hardLimitMs = (run.durationS + run.timeoutS + 20) * 1000;
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    running = child.pid ?? null;
    if (running !== null) recordForCleanup(running, true);
    // dnsperf bounds itself with -l; this is only for a hang.
    const timer = setTimeout(killRunningDnsperf, hardLimitMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      running = null;
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      running = null;
      resolve(code);
    });
  });
  const result = await parseOutput(run.outFile, run.perQuery);
  result.args = args;
  result.commandLine = `${pin}dnsperf ${args.map(shellQuote).join(' ')}`;
  result.exitCode = exitCode;
  result.clientCpuMicros = readChildTimes(timesFile);
  rmSync(timesFile, { force: true });
  const stderr = safeRead(run.errFile).trim();
  if (stderr !== '') result.warnings.push(...stderr.split('\n').slice(0, 10));
  if (exitCode !== 0) result.warnings.push(`dnsperf exited with ${exitCode}`);
  return result;
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readChildTimes(file: string): number | null {
  const lines = safeRead(file).trim().split('\n');
  const children = lines[1];
  if (children === undefined) return null;
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (seconds.length !== 2) return null;
  return (seconds[0]! + seconds[1]!) * 1e6;
}

async function parseOutput(file: string, perQuery: boolean): Promise<DnsperfResult> {
  const result: DnsperfResult = {
    args: [],
    commandLine: '',
    exitCode: null,
    sent: 0,
    completed: 0,
    lost: 0,
    interrupted: 0,
    qps: 0,
    runTimeS: 0,
    rcodes: {},
    requestBytes: 0,
    responseBytes: 0,
    latency: { avgMs: NaN, minMs: NaN, maxMs: NaN, stddevMs: NaN },
    perSecondQps: [],
    clientCpuMicros: null,
    warnings: [],
  };
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const kept: string[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.startsWith('> ')) {
      if (!perQuery) continue;
      // "> NOERROR static.example.test A 0.000573", "> NXDOMAIN binary input 0.000601", "> T …" on timeout
      const space = line.lastIndexOf(' ');
      const seconds = Number(line.slice(space + 1));
      const code = line.slice(2, line.indexOf(' ', 2));
      if (code === 'T' || code === 'I' || !Number.isFinite(seconds)) continue;
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = seconds;
      continue;
    }
    kept.push(line);
    let m: RegExpExecArray | null;
    if ((m = /^\d+\.\d+: ([\d.]+)$/.exec(line))) result.perSecondQps.push(Number(m[1]));
    else if ((m = /^\s*Queries sent:\s+(\d+)/.exec(line))) result.sent = Number(m[1]);
    else if ((m = /^\s*Queries completed:\s+(\d+)/.exec(line))) result.completed = Number(m[1]);
    else if ((m = /^\s*Queries lost:\s+(\d+)/.exec(line))) result.lost = Number(m[1]);
    else if ((m = /^\s*Queries interrupted:\s+(\d+)/.exec(line))) result.interrupted = Number(m[1]);
    else if ((m = /^\s*Queries per second:\s+([\d.]+)/.exec(line))) result.qps = Number(m[1]);
    else if ((m = /^\s*Run time \(s\):\s+([\d.]+)/.exec(line))) result.runTimeS = Number(m[1]);
    else if ((m = /^\s*Average packet size:\s+request (\d+), response (\d+)/.exec(line))) {
      result.requestBytes = Number(m[1]);
      result.responseBytes = Number(m[2]);
    } else if ((m = /^\s*Response codes:\s+(.*)$/.exec(line))) {
      for (const part of m[1]!.matchAll(/([A-Z0-9]+) (\d+) \(/g)) result.rcodes[part[1]!] = Number(part[2]);
    } else if ((m = /^\s*Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/.exec(line))) {
      result.latency.avgMs = Number(m[1]) * 1e3;
      result.latency.minMs = Number(m[2]) * 1e3;
      result.latency.maxMs = Number(m[3]) * 1e3;
    } else if ((m = /^\s*Latency StdDev \(s\):\s+([\d.]+)/.exec(line))) result.latency.stddevMs = Number(m[1]) * 1e3;
    else if (/^\[(Warning|Error|Fatal)\]/i.test(line) || /^Error:/.test(line)) result.warnings.push(line);
  }
  if (perQuery && count > 0) {
    const perSecond = Math.round(count / Math.max(1, result.runTimeS));
    const perSecondP99Ms: number[] = [];
    for (let start = 0; perSecond > 0 && start + perSecond <= count; start += perSecond) {
      const second = latencies.slice(start, start + perSecond).sort();
      perSecondP99Ms.push(second[Math.ceil(0.99 * perSecond) - 1]! * 1e3);
    }
    // `latencies` is sorted in place only now: the per-second cut needs the printed order.
    const sorted = latencies.subarray(0, count).sort();
    const at = (p: number): number => sorted[Math.min(count - 1, Math.ceil(p * count) - 1)]! * 1e3;
    Object.assign(result.latency, { p50Ms: at(0.5), p90Ms: at(0.9), p99Ms: at(0.99), p999Ms: at(0.999), samples: count, perSecondP99Ms });
  }
  // -v wrote one line per query: large, and summarised above. Keep the rest of the report.
  if (perQuery) writeFileSync(file, `${kept.join('\n')}\n(${count} per-query lines removed after computing percentiles)\n`);
  return result;
}
