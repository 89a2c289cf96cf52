/**
 * Helpers of bench/targets.ts that bench/lib has no equivalent for: the shared benchmark lock, a
 * CPU window (server vs the rest of the machine, from /proc), a TCP listener that accepts and
 * closes, the admin HTTP calls, waiting for a server log line, batches of UDP queries from fresh
 * sockets, and a 1 ms UDP ticker that records the longest gap between answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { answerAddresses } from './net.js';
import { allProcessesCpu, otherProcessesCpu, processTree, systemCpu, topOtherProcesses, treeCpuMicros, type SystemCpu } from './proc.js';

export const BENCH_LOCK = '/tmp/meridian-bench.lock';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms` with `what` in the message: every phase runs under one of these. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: hard time limit of ${Math.round(ms / 1000)} s reached`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark lock

function ppidOf(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * True when a process among our ancestors holds a flock on BENCH_LOCK (the run was started as
 * `flock /tmp/meridian-bench.lock …`): taking it again from here would wait for ever.
 */
export function lockHeldByAncestor(file = BENCH_LOCK): boolean {
  let inode: number;
  try {
    inode = statSync(file).ino;
  } catch {
    return false;
  }
  const holders = new Set<number>();
  for (const line of readFileSync('/proc/locks', 'utf8').split('\n')) {
    // "1: FLOCK  ADVISORY  WRITE 1234 00:1f:5678 0 EOF"
    const m = /^\d+:\s+FLOCK\s+\S+\s+\S+\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (m && Number(m[2]) === inode) holders.add(Number(m[1]));
  }
  for (let pid: number | null = ppidOf(process.pid), guard = 0; pid !== null && pid > 1 && guard < 64; pid = ppidOf(pid), guard++) {
    if (holders.has(pid)) return true;
  }
  return false;
}

export interface HeldLock {
  /** how long we waited for it, ms */
  waitedMs: number;
  release(): Promise<void>;
}

/**
 * Takes BENCH_LOCK exclusively (a `flock -x FILE -c 'echo locked; exec cat'` holder that keeps it
 * until its stdin closes). A no-op when an ancestor already holds it.
 */
export async function takeBenchLock(label: string, timeoutMs: number, onWait: (message: string) => void): Promise<HeldLock> {
  if (lockHeldByAncestor()) return { waitedMs: 0, release: async () => undefined };
  const started = performance.now();
  const holder: ChildProcess = spawn('flock', ['-x', '-w', String(Math.ceil(timeoutMs / 1000)), BENCH_LOCK, '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  activeLockHolders.add(holder);
  const waitNotice = setTimeout(() => onWait(`${label}: waiting for ${BENCH_LOCK} (another benchmark is running)`), 1000);
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      holder.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('locked')) resolve();
      });
      holder.once('exit', (code) => reject(new Error(`${label}: could not take ${BENCH_LOCK} within ${Math.round(timeoutMs / 1000)} s (flock exited ${code})`)));
      holder.once('error', reject);
    });
  } catch (error) {
    activeLockHolders.delete(holder);
    throw error;
  } finally {
    clearTimeout(waitNotice);
  }
  return {
    waitedMs: performance.now() - started,
    release: async () => {
      if (holder.exitCode !== null || holder.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
      holder.stdin!.end();
      await Promise.race([gone, sleep(2000)]);
      if (holder.exitCode === null && holder.pid !== undefined) holder.kill('SIGKILL');
      activeLockHolders.delete(holder);
    },
  };
}

const activeLockHolders = new Set<ChildProcess>();
/** Last resort on exit: kill the lock holders by their own PID. */
export function releaseLocksSync(): void {
  for (const holder of activeLockHolders) {
    if (holder.pid !== undefined && holder.exitCode === null) {
      try {
        process.kill(holder.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  activeLockHolders.clear();
}

// ---------------------------------------------------------------------------------------------
// CPU window: the server vs everything else

export interface CpuWindow {
  wallS: number;
  /** server process tree, % of one core */
  serverPct: number;
  /** the machine's busy time (/proc/stat: user+nice+system+irq+softirq), % of one core */
  machinePct: number;
  /** processes that are neither the server nor this benchmark's own (driver, helpers), % of one core */
  othersPct: number;
  /** hypervisor steal, % of one core */
  stealPct: number;
  /** this benchmark's own processes (driver and its children alive at the end, e.g. the HTTP helper), % of one core */
  benchPct: number;
  topOthers: string[];
}

export interface CpuWindowStart {
  t: number;
  sys: SystemCpu;
  procs: Map<number, number>;
  server: number;
}

export function startCpuWindow(serverPid: number): CpuWindowStart {
  return { t: performance.now(), sys: systemCpu(), procs: allProcessesCpu(), server: treeCpuMicros(serverPid)?.micros ?? 0 };
}

export function endCpuWindow(start: CpuWindowStart, serverPid: number): CpuWindow {
  const server = treeCpuMicros(serverPid)?.micros ?? start.server;
  const sys = systemCpu();
  const procs = allProcessesCpu();
  const wallUs = (performance.now() - start.t) * 1000;
  const serverTree = new Set(processTree(serverPid));
  const ours = new Set(processTree(process.pid));
  const exclude = new Set([...serverTree, ...ours]);
  const pct = (us: number): number => (100 * us) / wallUs;
  let bench = 0;
  for (const pid of ours) {
    if (serverTree.has(pid)) continue;
    bench += Math.max(0, (procs.get(pid) ?? 0) - (start.procs.get(pid) ?? 0));
  }
  return {
    wallS: wallUs / 1e6,
    serverPct: pct(server - start.server),
    machinePct: pct(sys.busyMicros - start.sys.busyMicros),
    othersPct: pct(otherProcessesCpu(start.procs, procs, exclude)),
    stealPct: pct(sys.stealMicros - start.sys.stealMicros),
    benchPct: pct(bench),
    topOthers: topOtherProcesses(start.procs, procs, exclude),
  };
}

/** Other processes + steal, % of one core: what may have disturbed a measurement. */
export function noiseOf(w: CpuWindow): number {
  return w.othersPct + w.stealPct;
}

/** RssAnon / RssFile (+ RssShmem) of a process, KiB: heap and native allocations vs mapped files (the node binary). */
export function rssSplit(pid: number): { anonKiB: number; fileKiB: number; shmemKiB: number } {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // gone
  }
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { anonKiB: field('RssAnon'), fileKiB: field('RssFile'), shmemKiB: field('RssShmem') };
}

/**
 * Proportional set size (/proc/PID/smaps_rollup): each shared page divided among the processes
 * mapping it, so a sum over processes counts the node binary's pages once.
 */
export function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

export function describeCpuWindow(w: CpuWindow): string {
  const top = w.topOthers.length > 0 ? ` (largest: ${w.topOthers.join(', ')})` : '';
  return `server ${w.serverPct.toFixed(1)} %, machine busy ${w.machinePct.toFixed(1)} %, this benchmark ${w.benchPct.toFixed(1)} %, other processes ${w.othersPct.toFixed(1)} %${top}, steal ${w.stealPct.toFixed(1)} % (of one core, over ${w.wallS.toFixed(1)} s)`;
}

// ---------------------------------------------------------------------------------------------
// A TCP service that accepts and closes (the target of TCP health checks)

export interface TcpAcceptor {
  port: number;
  accepted(): number;
  close(): Promise<void>;
}

/** Listens on every address at one port (0: a free port picked on the first address). */
export async function startTcpAcceptor(addresses: string[], port = 0): Promise<TcpAcceptor> {
  let accepted = 0;
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const listenOne = (address: string, p: number): Promise<net.Server> =>
    new Promise((resolve, reject) => {
      const server = net.createServer((socket) => {
        accepted++;
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
        socket.end();
      });
      server.once('error', reject);
      server.listen({ host: address, port: p, exclusive: true }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  try {
    const first = await listenOne(addresses[0]!, port);
    servers.push(first);
    const bound = (first.address() as net.AddressInfo).port;
    for (const address of addresses.slice(1)) servers.push(await listenOne(address, bound));
    return {
      port: bound,
      accepted: () => accepted,
      close: async () => {
        for (const s of sockets) s.destroy();
        await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      },
    };
  } catch (error) {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Admin HTTP

export interface HttpReply {
  status: number;
  body: string;
  /** performance.now() when the response had fully arrived */
  at: number;
}

export function httpCall(host: string, port: number, method: string, path: string, body?: string, timeoutMs = 5000): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path, agent: false, timeout: timeoutMs, headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Sum of a Prometheus counter's samples whose labels match `labelFilter` (substring of the label set). */
export function metricSum(text: string, name: string, labelFilter?: (labels: string) => boolean): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (labelFilter && !labelFilter(m[2] ?? '')) continue;
    sum += Number(m[3]);
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------
// Server log lines (pino JSON)

export interface LogLine {
  msg?: string;
  time?: string | number;
  level?: number;
  [key: string]: unknown;
}

export function readLogLines(file: string): LogLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line being written right now
    }
  }
  return out;
}

export function logTimeMs(line: LogLine): number {
  return typeof line.time === 'number' ? line.time : Date.parse(String(line.time));
}

/** Polls the log file until a line satisfies `match` (lines before `skip` ignored); null on timeout. */
export async function waitForLogLine(file: string, match: (line: LogLine) => boolean, timeoutMs: number, skip = 0): Promise<{ line: LogLine; index: number } | null> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const lines = readLogLines(file);
    for (let i = skip; i < lines.length; i++) if (match(lines[i]!)) return { line: lines[i]!, index: i };
    await sleep(5);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// UDP queries

/** Offset between Date.now() and performance.now(), to place log `time`s on the performance clock. */
export function wallToPerf(wallMs: number): number {
  return wallMs - (Date.now() - performance.now());
}

export interface BatchResult {
  sentAt: number;
  doneAt: number;
  /** the A addresses of each answer (empty array: no answer / no A) */
  answers: string[][];
}

/** `size` queries at once, each from a fresh socket (a new source port), each waited for up to `timeoutMs`. */
export function udpBatch(host: string, port: number, message: Buffer, size: number, timeoutMs: number): Promise<BatchResult> {
  const sentAt = performance.now();
  const one = (i: number): Promise<string[]> =>
    new Promise((resolve) => {
      const socket = dgram.createSocket('udp4');
      const id = (Math.random() * 0xffff) & 0xffff;
      const query = Buffer.from(message);
      query.writeUInt16BE(id, 0);
      let done = false;
      const finish = (value: string[]): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.close();
        resolve(value);
      };
      const timer = setTimeout(() => finish([]), timeoutMs);
      socket.on('error', () => finish([]));
      socket.on('message', (bytes) => {
        if (bytes.length < 12 || bytes.readUInt16BE(0) !== id) return;
        try {
          finish(answerAddresses(bytes));
        } catch {
          finish([]);
        }
      });
      socket.send(query, port, host, (error) => {
        if (error) finish([]);
      });
      void i;
    });
  return Promise.all(Array.from({ length: size }, (_, i) => one(i))).then((answers) => ({ sentAt, doneAt: performance.now(), answers }));
}

/**
 * Starts a batch every `everyMs` until a batch in which every answer satisfies `accept`, or
 * `timeoutMs`. Returns that batch (the earliest sent, if several qualify) and how many batches ran.
 */
export async function pollBatches(
  host: string,
  port: number,
  message: Buffer,
  accept: (addresses: string[]) => boolean,
  options: { size: number; everyMs: number; timeoutMs: number; answerTimeoutMs?: number },
): Promise<{ batch: BatchResult | null; batches: number; mixed: number }> {
  const deadline = performance.now() + options.timeoutMs;
  const inFlight = new Set<Promise<void>>();
  let best: BatchResult | null = null;
  let batches = 0;
  let mixed = 0;
  while (best === null && performance.now() < deadline) {
    batches++;
    const p = udpBatch(host, port, message, options.size, options.answerTimeoutMs ?? 500).then((b) => {
      const ok = b.answers.filter((a) => a.length > 0 && accept(a)).length;
      if (ok === b.answers.length) {
        if (best === null || b.sentAt < best.sentAt) best = b;
      } else if (ok > 0) mixed++;
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    await sleep(options.everyMs);
  }
  await Promise.all(inFlight);
  return { batch: best, batches, mixed };
}

export interface Ticker {
  stop(): Promise<{ sent: number; answered: number; longestGapMs: number; maxRttMs: number; gapAtMs: number | null }>;
}

/**
 * One query every `everyMs` on one socket; records when each answer arrives. The longest gap
 * between two answers (and the longest round trip) shows a stall of the server — or of this
 * process, whose own timers are part of the figure (the baseline run shows how much).
 */
export function startTicker(host: string, port: number, message: Buffer, everyMs = 1): Ticker {
  const socket = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  let id = 0;
  let sent = 0;
  let answered = 0;
  let last: number | null = null;
  let longestGap = 0;
  let gapAt: number | null = null;
  let maxRtt = 0;
  const t0 = performance.now();
  socket.on('error', () => undefined);
  socket.on('message', (bytes) => {
    if (bytes.length < 12) return;
    const now = performance.now();
    const sent0 = sentAt.get(bytes.readUInt16BE(0));
    if (sent0 === undefined) return;
    sentAt.delete(bytes.readUInt16BE(0));
    answered++;
    maxRtt = Math.max(maxRtt, now - sent0);
    if (last !== null && now - last > longestGap) {
      longestGap = now - last;
      gapAt = last - t0;
    }
    last = now;
  });
  const timer = setInterval(() => {
    id = (id + 1) & 0xffff;
    const q = Buffer.from(message);
    q.writeUInt16BE(id, 0);
    sentAt.set(id, performance.now());
    sent++;
    socket.send(q, port, host);
  }, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await sleep(200);
      socket.close();
      return { sent, answered, longestGapMs: longestGap, maxRttMs: maxRtt, gapAtMs: gapAt };
    },
  };
}

/** The soft limit on open files a child gets (`ulimit -n` of a shell started from here). */
export function openFileLimit(): number {
  try {
    const text = readFileSync(`/proc/${process.pid}/limits`, 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(text);
    return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** The command line of a process, for the report. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return '?';
    }
  }
}
