/**
 * Issue 6's targets other than throughput (`npm run bench:targets [-- OPTIONS]`), each phase bounded
 * in time and run under the shared benchmark lock (/tmp/meridian-bench.lock):
 *
 *   rss      RSS with the embedded GeoIP database and a 10,000-name zone, --workers 1 and 2, after
 *            5 s of mixed queries (≤ 150 MB)
 *   reload   answer latency while the 10,000-name file is rewritten twice under a fixed 5,000 q/s,
 *            vs a run without rewrites; time from the write to the new answer (no answer > 50 ms)
 *   probes   CPU of 5,000 HTTP probe targets checked every 5 s, no DNS traffic (< 20 % of one core)
 *   workers  --workers 2: time until every worker answers from the standby after an override and
 *            after a failed probe, and back (≤ 100 ms)
 *
 * Prints one table (figure / target / met?) and writes bench/results/targets-<time>.{json,md}.
 * Every process it starts is stopped by its PID at the end, on error and on Ctrl-C.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { dnsperfVersion, killRunningDnsperf, runDnsperf, type DnsperfResult, type DnsperfRun } from './lib/dnsperf.js';
import { answerAddresses, benchQuery, findFreePort, udpExchange, waitUntilAnswering } from './lib/net.js';
import { tcpFrame } from '../src/wire/index.js';
import { hostInfo, processCpuMicros, processMemory, processTree, treeMemory } from './lib/proc.js';
import { killAllSync, startProcess, stopProcess, tailOfFile, type StartedProcess } from './lib/processes.js';
import {
  BIG_GEO_NAMES, BIG_STATIC_NAMES, BIG_ZONE, CHANGED_NAME, FAILOVER_PRIMARY, FAILOVER_STANDBY, FAILOVER_ZONE, PROBE_MEMBERS, PROBE_POOLS, PROBE_ZONE,
  allGeoMembers, bigZone, bigZoneQueries, changedAddress, failoverZone, geoPoolMembers, probeZone,
} from './lib/targets-zones.js';
import {
  BENCH_LOCK, describeCpuWindow, pssKiB, noiseOf, rssSplit, endCpuWindow, httpCall, lockHeldByAncestor, logTimeMs, metricSum, openFileLimit, pollBatches, readLogLines,
  releaseLocksSync, sleep, startCpuWindow, startTcpAcceptor, startTicker, takeBenchLock, waitForLogLine, wallToPerf, withTimeout,
  type CpuWindow, type TcpAcceptor,
} from './lib/targets-util.js';
import { ECS_SUBNETS } from './lib/scenarios.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAIN = path.join(REPO, 'dist/cli/main.js');
const HOST = '127.0.0.1';
const RSS_TARGET_BYTES = 150e6;
const RSS_TARGET_MIB = RSS_TARGET_BYTES / 2 ** 20;
const STALL_TARGET_MS = 50;
const PROBE_CPU_TARGET_PCT = 20;
const PROPAGATION_TARGET_MS = 100;
/** % of one core used by other processes (+ steal) above which a figure is flagged, as in bench/run.ts */
const NOISE_LIMIT_PCT = 20;
const PHASES = ['rss', 'reload', 'probes', 'workers'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: npm run bench:targets [-- OPTIONS]
  --phases LIST      comma-separated, default all: ${PHASES.join(', ')}
  --probe-seconds S  CPU window of the probe-cost test (default 30)
  --trials N         override trials of the workers test (default 20; probe-path trials: 5)
  --keep             keep the scratch directory (zones, logs) and print where it is
Run on its own: it takes ${BENCH_LOCK} for every phase, so it waits for (and blocks) \`npm run bench\`
runs that take the lock too; start it as \`flock ${BENCH_LOCK} npm run bench:targets\` to hold the lock
for the whole run.
`;

interface Row {
  phase: Phase;
  figure: string;
  value: string;
  target: string;
  /** null: informational, no target */
  met: boolean | null;
  /** other processes + steal during the measurement, % of one core (flagged above NOISE_LIMIT_PCT) */
  noisePct?: number;
}

interface PhaseReport {
  phase: Phase;
  ok: boolean;
  error: string | null;
  seconds: number;
  lockWaitMs: number;
  details: Record<string, unknown>;
  notes: string[];
  rows: Row[];
}

const log = (message: string): void => {
  process.stderr.write(`[targets ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};
const mib = (kib: number): number => kib / 1024;
const f1 = (n: number): string => n.toFixed(1);
const ms = (n: number): string => (n < 10 ? n.toFixed(2) : n.toFixed(1));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

let scratch = '';
let keepScratch = false;

// ---------------------------------------------------------------------------------------------
// Starting a Meridian server

interface Server {
  proc: StartedProcess;
  port: number;
  logFile: string;
  admin: { host: string; port: number } | null;
  startedAt: number;
}

/**
 * The node flags of dist/cli/main.js's shebang (e.g. --expose-gc): the server runs as
 * the installed `meridian` binary, npm start, the Dockerfile and the systemd unit run it.
 */
function serverNodeFlags(): string[] {
  try {
    const first = readFileSync(MAIN, 'utf8').split('\n', 1)[0] ?? '';
    const m = /^#!.*\bnode\b(.*)$/.exec(first);
    return m ? m[1]!.trim().split(/\s+/).filter((w) => w.startsWith('--')) : [];
  } catch {
    return [];
  }
}

async function startServer(label: string, zonesDir: string, extra: string[], probeName: string, wrap: string[] = []): Promise<Server> {
  const port = await findFreePort(HOST);
  const logFile = path.join(scratch, `${label}.log`);
  const args = [...serverNodeFlags(), MAIN, 'serve', '--zones', zonesDir, '--listen', `${HOST}:${port}`, ...extra];
  const [command, fullArgs] = wrap.length > 0 ? [wrap[0]!, [...wrap.slice(1), process.execPath, ...args]] : [process.execPath, args];
  const startedAt = performance.now();
  // MALLOC_ARENA_MAX as npm start, the Dockerfile and the systemd unit set it.
  const proc = startProcess({ command, args: fullArgs, cpus: null, logFile, label, cwd: REPO, env: { ...process.env, MALLOC_ARENA_MAX: '2' } });
  log(`${label}: ${proc.commandLine} (pid ${proc.pid})`);
  try {
    await waitUntilAnswering(HOST, port, benchQuery(probeName, 'SOA'), 90_000, proc.isRunning);
  } catch (error) {
    throw new Error(`${label}: ${(error as Error).message}\n${tailOfFile(logFile)}`);
  }
  let admin: Server['admin'] = null;
  if (extra.includes('--admin')) {
    const line = await waitForLogLine(logFile, (l) => typeof l.msg === 'string' && l.msg.startsWith('admin HTTP on '), 10_000);
    const m = line && /^admin HTTP on (\S+):(\d+)$/.exec(String(line.line.msg));
    if (!m) throw new Error(`${label}: no "admin HTTP on" line in ${logFile}\n${tailOfFile(logFile)}`);
    admin = { host: m[1]!, port: Number(m[2]) };
    const deadline = performance.now() + 30_000;
    while ((await httpCall(admin.host, admin.port, 'GET', '/readyz').catch(() => ({ status: 0 }))).status !== 200) {
      if (performance.now() > deadline) throw new Error(`${label}: /readyz never said ready`);
      await sleep(50);
    }
  }
  return { proc, port, logFile, admin, startedAt };
}

async function stopServer(server: Server | null): Promise<void> {
  if (server === null) return;
  const r = await stopProcess(server.proc.pid);
  if (r.forced) log(`pid ${server.proc.pid} needed SIGKILL`);
}

function dnsperfRun(port: number, dataFile: string, name: string, extra: Partial<DnsperfRun>): DnsperfRun {
  return {
    host: HOST,
    port,
    dataFile,
    binary: true,
    durationS: 5,
    clients: 4,
    threads: 1,
    maxOutstanding: 100,
    ednsOptions: [],
    perQuery: false,
    timeoutS: 2,
    cpus: null,
    outFile: path.join(scratch, `${name}.dnsperf.out`),
    errFile: path.join(scratch, `${name}.dnsperf.err`),
    ...extra,
  };
}

function checkZones(dir: string): void {
  try {
    execFileSync(process.execPath, [MAIN, 'check', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`meridian check ${dir} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function zoneDir(name: string, file: string, text: string): string {
  const dir = path.join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, file), text);
  checkZones(dir);
  return dir;
}

function cpuNote(what: string, w: CpuWindow): string {
  return `${what}: ${describeCpuWindow(w)}`;
}

function dnsperfSummary(r: DnsperfResult): Record<string, unknown> {
  return { commandLine: r.commandLine, sent: r.sent, completed: r.completed, lost: r.lost, qps: r.qps, rcodes: r.rcodes, latency: r.latency, perSecondQps: r.perSecondQps, warnings: r.warnings };
}

// ---------------------------------------------------------------------------------------------
// 1. RSS

const bigQueryFile = (): string => {
  const file = path.join(scratch, 'big-queries.bin');
  writeFileSync(file, Buffer.concat(bigZoneQueries(20_000).map((q) => tcpFrame(benchQuery(q.name, q.type, { ecs: q.ecs })))));
  return file;
};

/** V8 heap figures of the process that serves /metrics (the primary, with workers). */
async function heapOf(server: Server): Promise<{ usedMiB: number; totalMiB: number; externalMiB: number; rssMiB: number; spaces: Record<string, number> } | null> {
  if (server.admin === null) return null;
  try {
    const text = (await httpCall(server.admin.host, server.admin.port, 'GET', '/metrics')).body;
    const m = (name: string): number => metricSum(text, name) / 2 ** 20;
    const spaces: Record<string, number> = {};
    for (const match of text.matchAll(/^meridian_nodejs_heap_space_size_used_bytes\{space="([^"]+)"\} (\S+)/gm)) spaces[match[1]!] = Number(match[2]) / 2 ** 20;
    return {
      usedMiB: m('meridian_nodejs_heap_size_used_bytes'),
      totalMiB: m('meridian_nodejs_heap_size_total_bytes'),
      externalMiB: m('meridian_nodejs_external_memory_bytes'),
      rssMiB: m('meridian_process_resident_memory_bytes'),
      spaces,
    };
  } catch {
    return null;
  }
}

async function preflightBig(port: number, version: number): Promise<void> {
  const a = answerAddresses((await udpExchange(HOST, port, benchQuery(CHANGED_NAME, 'A'), 1000)).bytes);
  if (a.join() !== changedAddress(version)) throw new Error(`preflight: ${CHANGED_NAME} A answered ${a.join()} (expected ${changedAddress(version)})`);
  // g0004 uses the first rule set: GB → [london, frankfurt]
  const geo = answerAddresses((await udpExchange(HOST, port, benchQuery(`g0004.${BIG_ZONE}`, 'A', { ecs: ECS_SUBNETS.GB }), 1000)).bytes);
  const london = geoPoolMembers('london');
  if (geo.length === 0 || !geo.every((x) => london.includes(x))) throw new Error(`preflight: g0004 A with ECS GB answered [${geo.join(', ')}] (expected london ${london.join(', ')})`);
  const nx = await udpExchange(HOST, port, benchQuery(`nope.${BIG_ZONE}`, 'A'), 1000);
  if (nx.response.rcodeName !== 'NXDOMAIN') throw new Error(`preflight: nope.${BIG_ZONE} answered ${nx.response.rcodeName}`);
}

async function phaseRss(report: PhaseReport): Promise<void> {
  const acceptor = await startTcpAcceptor(allGeoMembers());
  try {
    const dir = zoneDir('rss-zones', 'big.yaml', bigZone(acceptor.port));
    const data = bigQueryFile();
    // reference: the same server with only the contract zone (zones/), idle — what the 10,000 names add
    {
      const small = path.join(scratch, 'contract-zones');
      cpSync(path.join(REPO, 'zones'), small, { recursive: true });
      let ref: Server | null = null;
      try {
        ref = await startServer('rss-contract', small, ['--log-level', 'warn', '--workers', '1'], 'example.test');
        await sleep(500);
        const m = processMemory(ref.proc.pid)!;
        report.details.contractZoneIdle = { ...m, ...rssSplit(ref.proc.pid) };
        report.rows.push({
          phase: 'rss',
          figure: 'Reference: RSS with only the contract zone (zones/, ~15 names), --workers 1, idle: VmRSS / peak',
          value: `${f1(mib(m.rssKiB))} / ${f1(mib(m.hwmKiB))} MiB`,
          target: '–',
          met: null,
        });
      } finally {
        await stopServer(ref);
      }
    }
    for (const workers of [1, 2]) {
      let server: Server | null = null;
      try {
        server = await startServer(`rss-w${workers}`, dir, ['--log-level', 'info', '--workers', String(workers), '--admin', `${HOST}:0`], BIG_ZONE);
        const startS = (performance.now() - server.startedAt) / 1000;
        await preflightBig(server.port, 0);
        await sleep(500);
        const idle = treeMemory(server.proc.pid);
        const win = startCpuWindow(server.proc.pid);
        const perf = await runDnsperf(dnsperfRun(server.port, data, `rss-w${workers}`, { durationS: 5 }));
        const cpu = endCpuWindow(win, server.proc.pid);
        const tree = processTree(server.proc.pid);
        const perProcess = tree.map((pid) => ({ pid, role: pid === server!.proc.pid ? (workers > 1 ? 'primary' : 'server') : 'worker', ...processMemory(pid)!, ...rssSplit(pid) }));
        const after = treeMemory(server.proc.pid)!;
        const heap = await heapOf(server);
        if (perf.completed === 0) throw new Error(`dnsperf got no answers: ${perf.warnings.join('; ')}`);
        report.details[`workers${workers}`] = { startS, idle, after, perProcess, heap, dnsperf: dnsperfSummary(perf), cpu };
        if (heap) report.notes.push(`--workers ${workers}: ${workers > 1 ? 'the primary' : 'the server'}'s V8 heap ${f1(heap.usedMiB)} MiB used of ${f1(heap.totalMiB)} MiB, external ${f1(heap.externalMiB)} MiB (prom-client's process metrics; new space ${f1(heap.spaces.new ?? NaN)} MiB used, old ${f1(heap.spaces.old ?? NaN)} MiB used), RSS ${f1(heap.rssMiB)} MiB; RSS split anon/file: ${perProcess.map((p) => `${p.role} ${f1(mib(p.anonKiB))}/${f1(mib(p.fileKiB))}`).join(', ')} MiB`);
        report.notes.push(cpuNote(`--workers ${workers}, 5 s dnsperf`, cpu));
        const procText = perProcess.map((p) => `${p.role} ${f1(mib(p.rssKiB))}/${f1(mib(p.hwmKiB))}`).join(', ');
        log(`rss --workers ${workers}: ${perf.qps.toFixed(0)} q/s, lost ${perf.lost}; RSS/peak MiB ${procText}; sum ${f1(mib(after.rssKiB))}/${f1(mib(after.hwmKiB))}`);
        const maxHwm = Math.max(...perProcess.map((p) => p.hwmKiB));
        const target = `≤ 150 MB (${f1(RSS_TARGET_MIB)} MiB)`;
        const traffic = `after 5 s of mixed queries (${Math.round(perf.qps).toLocaleString('en-US')} q/s, ${perf.lost} lost)`;
        // Judged twice: the steady figure (VmRSS after traffic) and the start-up peak (VmHWM), which
        // the parsing of a large zone sets.
        if (workers === 1) {
          report.rows.push({
            phase: 'rss',
            figure: `RSS, 10,000 names + embedded GeoIP, --workers 1, ${traffic}: VmRSS (idle before traffic)`,
            value: `${f1(mib(after.rssKiB))} MiB (idle ${f1(mib(idle?.rssKiB ?? NaN))})`,
            target,
            met: after.rssKiB * 1024 <= RSS_TARGET_BYTES,
            noisePct: noiseOf(cpu),
          });
          report.rows.push({
            phase: 'rss',
            figure: 'same, peak since start (VmHWM: reached while the zone is parsed and compiled at start-up)',
            value: `${f1(mib(after.hwmKiB))} MiB`,
            target,
            met: after.hwmKiB * 1024 <= RSS_TARGET_BYTES,
            noisePct: noiseOf(cpu),
          });
        } else {
          const maxRss = Math.max(...perProcess.map((p) => p.rssKiB));
          report.rows.push({
            phase: 'rss',
            figure: `RSS, same, --workers 2 (${perProcess.length} processes), ${traffic}: each process VmRSS / peak`,
            value: procText.replace(/(\d)\/(\d)/g, '$1 / $2') + ' MiB',
            target: `${target} per process (VmRSS; peak ${maxHwm * 1024 <= RSS_TARGET_BYTES ? 'within' : 'over'})`,
            met: maxRss * 1024 <= RSS_TARGET_BYTES,
            noisePct: noiseOf(cpu),
          });
          report.rows.push({
            phase: 'rss',
            figure: `RSS, --workers 2: sum over the ${perProcess.length} processes, VmRSS / peak (sum of VmHWM)`,
            value: `${f1(mib(after.rssKiB))} / ${f1(mib(after.hwmKiB))} MiB`,
            target,
            met: after.rssKiB * 1024 <= RSS_TARGET_BYTES,
            noisePct: noiseOf(cpu),
          });
          const pss = perProcess.reduce((sum, p) => sum + pssKiB(p.pid), 0);
          report.rows.push({
            phase: 'rss',
            figure: `--workers 2: memory the ${perProcess.length} processes take together, sum of Pss (pages they share, such as the node binary's, counted once)`,
            value: `${f1(mib(pss))} MiB (file-backed RSS per process: ${perProcess.map((p) => f1(mib(p.fileKiB))).join(', ')} MiB)`,
            target: '–',
            met: null,
            noisePct: noiseOf(cpu),
          });
        }
      } finally {
        await stopServer(server);
      }
    }
  } finally {
    await acceptor.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Reload stall

async function pollForAddress(port: number, expected: string, timeoutMs: number): Promise<number | null> {
  const start = performance.now();
  const query = benchQuery(CHANGED_NAME, 'A');
  while (performance.now() - start < timeoutMs) {
    const tick = performance.now();
    try {
      const a = answerAddresses((await udpExchange(HOST, port, query, 200)).bytes);
      if (a.includes(expected)) return performance.now() - start;
    } catch {
      // a lost answer: the dnsperf figures show it
    }
    await sleep(Math.max(0, 10 - (performance.now() - tick)));
  }
  return null;
}

async function phaseReload(report: PhaseReport): Promise<void> {
  const acceptor = await startTcpAcceptor(allGeoMembers());
  let server: Server | null = null;
  try {
    const dir = zoneDir('reload-zones', 'big.yaml', bigZone(acceptor.port, 0));
    const file = path.join(dir, 'big.yaml');
    const data = bigQueryFile();
    server = await startServer('reload', dir, ['--log-level', 'info', '--workers', '1'], BIG_ZONE);
    await preflightBig(server.port, 0);
    const tickQuery = benchQuery(`s00002.${BIG_ZONE}`, 'A');
    const rate = 5000;
    // long enough for both reloads to finish inside the run (each took ~2.5 s in the first runs)
    const seconds = 10;
    // warm-up, so the baseline is not the JIT's first seconds
    await runDnsperf(dnsperfRun(server.port, data, 'reload-warmup', { durationS: 2, offeredQps: rate }));

    const measure = async (name: string, writes: { atMs: number; version: number }[]) => {
      const linesBefore = readLogLines(server!.logFile).length;
      const ticker = startTicker(HOST, server!.port, tickQuery, 1);
      const win = startCpuWindow(server!.proc.pid);
      const t0 = performance.now();
      const perfPromise = runDnsperf(dnsperfRun(server!.port, data, name, { durationS: seconds, offeredQps: rate, perQuery: true }));
      const changes: { version: number; writtenAtMs: number; writeMs: number; newAnswerAfterMs: number | null; wall: number }[] = [];
      for (const w of writes) {
        await sleep(Math.max(0, w.atMs - (performance.now() - t0)));
        const text = bigZone(acceptor.port, w.version);
        const wall = Date.now();
        const before = performance.now();
        writeFileSync(file, text);
        const writeMs = performance.now() - before;
        const newAnswerAfterMs = await pollForAddress(server!.port, changedAddress(w.version), 10_000);
        changes.push({ version: w.version, writtenAtMs: before - t0, writeMs, newAnswerAfterMs, wall });
      }
      const perf = await perfPromise;
      const cpu = endCpuWindow(win, server!.proc.pid);
      const tick = await ticker.stop();
      const lines = readLogLines(server!.logFile).slice(linesBefore);
      const loaded = lines.filter((l) => l.msg === 'zone loaded');
      const problems = lines.filter((l) => (l.level ?? 0) >= 40).map((l) => String(l.msg));
      return { perf, cpu, tick, changes, loaded, problems };
    };

    log('reload: baseline, no rewrites');
    const base = await measure('reload-baseline', []);
    log(`reload: baseline max ${ms(base.perf.latency.maxMs)} ms, p99.9 ${ms(base.perf.latency.p999Ms ?? NaN)} ms, gap ${ms(base.tick.longestGapMs)} ms`);
    log('reload: rewrites at 2 s and 5 s');
    const run = await measure('reload-rewrites', [
      { atMs: 2000, version: 1 },
      { atMs: 5000, version: 2 },
    ]);
    log(`reload: with rewrites max ${ms(run.perf.latency.maxMs)} ms, p99.9 ${ms(run.perf.latency.p999Ms ?? NaN)} ms, gap ${ms(run.tick.longestGapMs)} ms; zone loaded x${run.loaded.length}; new answer after ${run.changes.map((c) => c.newAnswerAfterMs?.toFixed(0) ?? 'never').join(', ')} ms`);
    report.details.baseline = { dnsperf: dnsperfSummary(base.perf), ticker: base.tick, cpu: base.cpu };
    report.details.rewrites = { dnsperf: dnsperfSummary(run.perf), ticker: run.tick, cpu: run.cpu, changes: run.changes, zoneLoaded: run.loaded, warnings: run.problems };
    report.notes.push(cpuNote('baseline', base.cpu), cpuNote('with rewrites', run.cpu));
    const reloadsSeen = run.loaded.length;
    if (reloadsSeen < 2) report.notes.push(`only ${reloadsSeen} "zone loaded" lines after the two rewrites`);
    const loadTimes = run.loaded.map((l, i) => {
      const c = run.changes[i];
      return c ? `${(logTimeMs(l) - c.wall).toFixed(0)} ms` : '?';
    });
    report.rows.push({
      phase: 'reload',
      figure: `Reload of the 10,000-name file, written at ${run.changes.map((c) => (c.writtenAtMs / 1000).toFixed(1)).join(' s and ')} s under -Q ${rate}: "zone loaded" lines (log time − write time)`,
      value: `${reloadsSeen} (${loadTimes.join(', ')})`,
      target: '2',
      met: reloadsSeen >= 2 && run.problems.length === 0,
      noisePct: noiseOf(run.cpu),
    });
    const l = (r: DnsperfResult): string => `max ${ms(r.latency.maxMs)}, p99.9 ${ms(r.latency.p999Ms ?? NaN)}, p99 ${ms(r.latency.p99Ms ?? NaN)} ms; ${r.lost} lost`;
    report.rows.push({ phase: 'reload', figure: `Answer latency, ${seconds} s at ${rate} q/s, no rewrite (baseline)`, value: l(base.perf), target: '–', met: null, noisePct: noiseOf(base.cpu) });
    report.rows.push({
      phase: 'reload',
      figure: `Answer latency, ${seconds} s at ${rate} q/s, two rewrites + reloads`,
      value: l(run.perf),
      target: `max ≤ ${STALL_TARGET_MS} ms, 0 lost`,
      met: run.perf.latency.maxMs <= STALL_TARGET_MS && run.perf.lost === 0,
      noisePct: noiseOf(run.cpu),
    });
    report.rows.push({
      phase: 'reload',
      figure: 'Longest gap between answers to a 1 ms UDP ticker (baseline → with reloads)',
      value: `${ms(base.tick.longestGapMs)} → ${ms(run.tick.longestGapMs)} ms (ticker RTT max ${ms(base.tick.maxRttMs)} → ${ms(run.tick.maxRttMs)} ms)`,
      target: `≤ ${STALL_TARGET_MS} ms`,
      met: run.tick.longestGapMs <= STALL_TARGET_MS,
      noisePct: Math.max(noiseOf(base.cpu), noiseOf(run.cpu)),
    });
    report.rows.push({
      phase: 'reload',
      figure: 'Write → new answer served (poll every 10 ms; includes the 100 ms debounce)',
      value: run.changes.map((c) => (c.newAnswerAfterMs === null ? 'never (10 s)' : `${c.newAnswerAfterMs.toFixed(0)} ms`)).join(', '),
      target: '–',
      met: run.changes.every((c) => c.newAnswerAfterMs !== null) ? null : false,
      noisePct: noiseOf(run.cpu),
    });
  } finally {
    await stopServer(server);
    await acceptor.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Probe cost

async function startHttpHelper(wrap: string[]): Promise<{ proc: StartedProcess; base: number; logFile: string }> {
  const helper = path.join(REPO, 'bench/lib/targets-http-helper.ts');
  for (let attempt = 0; attempt < 6; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 200) * 50;
    const logFile = path.join(scratch, `http-helper-${attempt}.log`);
    const helperArgs = ['--import', 'tsx', helper, '--addresses', `127.2.0.1-${PROBE_MEMBERS}`, '--base', String(base), '--ports', String(PROBE_POOLS)];
    const [command, args] = wrap.length > 0 ? [wrap[0]!, [...wrap.slice(1), process.execPath, ...helperArgs]] : [process.execPath, helperArgs];
    const proc = startProcess({ command, args, cpus: null, logFile, label: 'http-helper', cwd: REPO });
    const deadline = performance.now() + 60_000;
    while (performance.now() < deadline && proc.isRunning()) {
      if (/^ready \d+/m.test(tailOfFile(logFile, 50))) return { proc, base, logFile };
      await sleep(100);
    }
    const result = await stopProcess(proc.pid);
    if (result.code === 3) {
      log(`http helper: a port in ${base}–${base + PROBE_POOLS - 1} is taken; trying another base`);
      continue;
    }
    throw new Error(`http helper did not start (exit ${result.code ?? result.signal}):\n${tailOfFile(logFile)}`);
  }
  throw new Error('http helper: no free port range found');
}

async function phaseProbes(report: PhaseReport, windowS: number): Promise<void> {
  const targets = PROBE_POOLS * PROBE_MEMBERS;
  // the helper: 5,000 listeners + up to 5,000 accepted connections (the first round is all at once);
  // the server: up to 5,000 probe sockets in the first round, plus its own files
  const need = 2 * targets + 1024;
  const limit = openFileLimit();
  const wrap = limit < need ? ['prlimit', `--nofile=${need}:${need}`, '--'] : [];
  report.details.openFiles = { limit, need, raisedWithPrlimit: wrap.length > 0 };
  if (wrap.length > 0) report.notes.push(`ulimit -n is ${limit}: the server and the HTTP helper run under prlimit --nofile=${need}`);
  let helper: Awaited<ReturnType<typeof startHttpHelper>> | null = null;
  let server: Server | null = null;
  try {
    helper = await startHttpHelper(wrap);
    log(`probes: http helper pid ${helper.proc.pid} listens on 127.2.0.1–127.2.0.${PROBE_MEMBERS} × ${helper.base}–${helper.base + PROBE_POOLS - 1}`);
    const dir = zoneDir('probe-zones', 'probes.yaml', probeZone(helper.base));
    server = await startServer('probes', dir, ['--log-level', 'info', '--workers', '1', '--no-geo', '--admin', `${HOST}:0`], PROBE_ZONE, wrap);
    const firstRoundS = (performance.now() - server.startedAt) / 1000;
    const admin = server.admin!;
    const metrics = async (): Promise<{ ok: number; fail: number; timeout: number; up: number }> => {
      const text = (await httpCall(admin.host, admin.port, 'GET', '/metrics')).body;
      return {
        ok: metricSum(text, 'meridian_health_probes_total', (l) => l.includes('result="ok"')),
        fail: metricSum(text, 'meridian_health_probes_total', (l) => l.includes('result="fail"')),
        timeout: metricSum(text, 'meridian_health_probes_total', (l) => l.includes('result="timeout"')),
        up: metricSum(text, 'meridian_health_member_up'),
      };
    };
    const first = await metrics();
    log(`probes: first round done ${firstRoundS.toFixed(1)} s after start (${first.ok} ok, ${first.fail} fail, ${first.timeout} timeout); settling 6 s`);
    await sleep(6000);
    const m0 = await metrics();
    const helperCpu0 = processCpuMicros(helper.proc.pid) ?? 0;
    const win = startCpuWindow(server.proc.pid);
    const tm0 = performance.now();
    await sleep(windowS * 1000);
    const cpu = endCpuWindow(win, server.proc.pid);
    const elapsedS = (performance.now() - tm0) / 1000;
    const m1 = await metrics();
    const helperPct = ((processCpuMicros(helper.proc.pid) ?? helperCpu0) - helperCpu0) / (elapsedS * 1e4);
    const probes = m1.ok + m1.fail + m1.timeout - (m0.ok + m0.fail + m0.timeout);
    const failed = m1.fail + m1.timeout - (m0.fail + m0.timeout);
    const rate = probes / elapsedS;
    const mem = processMemory(server.proc.pid);
    report.details.probes = { targets, firstRoundS, first, before: m0, after: m1, windowS: elapsedS, probes, failed, rate, cpu, helperCpuPct: helperPct, memory: mem };
    report.notes.push(cpuNote(`${windowS} s probe window`, cpu), `the HTTP helper (pid ${helper.proc.pid}) used ${f1(helperPct)} % of one core answering the probes (part of "this benchmark")`);
    log(`probes: server ${f1(cpu.serverPct)} % of one core; ${probes} probes in ${elapsedS.toFixed(1)} s (${rate.toFixed(0)}/s), ${failed} failed; members up ${m1.up}/${targets}`);
    report.rows.push({
      phase: 'probes',
      figure: `Probe cost: ${targets.toLocaleString('en-US')} HTTP targets every 5 s, no DNS traffic, server CPU over ${Math.round(elapsedS)} s`,
      value: `${f1(cpu.serverPct)} % of one core (${((cpu.serverPct * 1e4) / Math.max(rate, 1)).toFixed(0)} µs CPU per probe)`,
      target: `< ${PROBE_CPU_TARGET_PCT} %`,
      met: cpu.serverPct < PROBE_CPU_TARGET_PCT,
      noisePct: noiseOf(cpu),
    });
    report.rows.push({
      phase: 'probes',
      figure: 'Probes run in that window (meridian_health_probes_total), failed + timed out; members up',
      value: `${probes.toLocaleString('en-US')} (${rate.toFixed(0)}/s), ${failed} failed; ${m1.up}/${targets} up`,
      target: '≈ 1,000/s, 0 failed',
      met: rate >= 900 && rate <= 1100 && failed === 0 && m1.up === targets,
      noisePct: noiseOf(cpu),
    });
  } finally {
    await stopServer(server);
    if (helper) await stopProcess(helper.proc.pid);
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Health changes reach every worker

const BATCH = { size: 16, everyMs: 2, timeoutMs: 3000 };

async function phaseWorkers(report: PhaseReport, trials: number): Promise<void> {
  let acceptor: TcpAcceptor | null = await startTcpAcceptor([FAILOVER_PRIMARY]);
  const checkPort = acceptor.port;
  let server: Server | null = null;
  try {
    const dir = zoneDir('failover-zones', 'failover.yaml', failoverZone(checkPort));
    server = await startServer('workers', dir, ['--log-level', 'info', '--workers', '2', '--no-geo', '--admin', `${HOST}:0`], FAILOVER_ZONE);
    const admin = server.admin!;
    const query = benchQuery(`api.${FAILOVER_ZONE}`, 'A');
    const only = (address: string) => (a: string[]): boolean => a.length === 1 && a[0] === address;
    const first = await pollBatches(HOST, server.port, query, only(FAILOVER_PRIMARY), { ...BATCH, timeoutMs: 5000 });
    if (first.batch === null) throw new Error(`api.${FAILOVER_ZONE} is not answered by the primary ${FAILOVER_PRIMARY} at the start`);
    log(`workers: server pids ${processTree(server.proc.pid).join(', ')}; api → ${FAILOVER_PRIMARY}`);
    const win = startCpuWindow(server.proc.pid);

    // (a) override path
    const drain: number[] = [];
    const clear: number[] = [];
    const drainSend: number[] = [];
    const batchMs: number[] = [];
    let mixedBatches = 0;
    for (let i = 0; i < trials; i++) {
      const put = await httpCall(admin.host, admin.port, 'PUT', `/overrides/${FAILOVER_PRIMARY}`, JSON.stringify({ state: 'drain' }));
      if (put.status !== 200) throw new Error(`PUT /overrides/${FAILOVER_PRIMARY}: HTTP ${put.status} ${put.body}`);
      const down = await pollBatches(HOST, server.port, query, only(FAILOVER_STANDBY), BATCH);
      if (down.batch === null) throw new Error(`trial ${i + 1}: no all-standby batch within ${BATCH.timeoutMs} ms after the drain`);
      drain.push(down.batch.doneAt - put.at);
      drainSend.push(down.batch.sentAt - put.at);
      batchMs.push(down.batch.doneAt - down.batch.sentAt);
      mixedBatches += down.mixed;
      await sleep(20);
      const del = await httpCall(admin.host, admin.port, 'DELETE', `/overrides/${FAILOVER_PRIMARY}`);
      if (del.status !== 200) throw new Error(`DELETE /overrides/${FAILOVER_PRIMARY}: HTTP ${del.status}`);
      const up = await pollBatches(HOST, server.port, query, only(FAILOVER_PRIMARY), BATCH);
      if (up.batch === null) throw new Error(`trial ${i + 1}: no all-primary batch within ${BATCH.timeoutMs} ms after clearing`);
      clear.push(up.batch.doneAt - del.at);
      mixedBatches += up.mixed;
      await sleep(20);
    }
    log(`workers: override drain → standby median ${ms(median(drain))} max ${ms(Math.max(...drain))} ms; clear → primary median ${ms(median(clear))} max ${ms(Math.max(...clear))} ms`);

    // (b) probe path: stop the listener, the next probe (every 1 s, fall 1) marks the primary down
    const probeTrials = Math.min(5, trials);
    const downMs: number[] = [];
    const upMs: number[] = [];
    const detectMs: number[] = [];
    for (let i = 0; i < probeTrials; i++) {
      const skip = readLogLines(server.logFile).length;
      await acceptor!.close();
      acceptor = null;
      const stoppedAt = performance.now();
      const polling = pollBatches(HOST, server.port, query, only(FAILOVER_STANDBY), { ...BATCH, timeoutMs: 4000 });
      const downLine = await waitForLogLine(server.logFile, (l) => l.msg === 'member down' && l.member === FAILOVER_PRIMARY, 4000, skip);
      const down = await polling;
      if (downLine === null) throw new Error(`probe trial ${i + 1}: no "member down" line for ${FAILOVER_PRIMARY} within 4 s`);
      if (down.batch === null) throw new Error(`probe trial ${i + 1}: no all-standby batch within 4 s of stopping the listener`);
      const at = wallToPerf(logTimeMs(downLine.line));
      downMs.push(down.batch.doneAt - at);
      detectMs.push(at - stoppedAt);
      mixedBatches += down.mixed;
      // back up: listen again on the same port; the next probe (rise 1) marks it up
      const skip2 = readLogLines(server.logFile).length;
      acceptor = await startTcpAcceptor([FAILOVER_PRIMARY], checkPort);
      const pollingUp = pollBatches(HOST, server.port, query, only(FAILOVER_PRIMARY), { ...BATCH, timeoutMs: 4000 });
      const upLine = await waitForLogLine(server.logFile, (l) => l.msg === 'member up' && l.member === FAILOVER_PRIMARY, 4000, skip2);
      const up = await pollingUp;
      if (upLine === null || up.batch === null) throw new Error(`probe trial ${i + 1}: the primary did not come back within 4 s`);
      upMs.push(up.batch.doneAt - wallToPerf(logTimeMs(upLine.line)));
    }
    log(`workers: probe path down → standby ${downMs.map((x) => x.toFixed(1)).join(', ')} ms; up → primary ${upMs.map((x) => x.toFixed(1)).join(', ')} ms`);
    report.details.override = { trials, drainMs: drain, drainFromBatchSendMs: drainSend, clearMs: clear, batchMs };
    report.notes.push(`a batch of 16 queries from fresh sockets takes ${ms(median(batchMs))} ms (median) from the first send to the last answer: that much of each figure is the measuring itself; batches with some answers from each member: ${mixedBatches}`);
    report.details.probePath = { trials: probeTrials, downMs, upMs, detectMs, note: 'from the "member down"/"member up" log time (ms resolution) to the end of the first batch whose 16 answers all came from the new member' };
    report.details.mixedBatches = mixedBatches;
    const cpu = endCpuWindow(win, server.proc.pid);
    report.details.cpu = cpu;
    report.notes.push(cpuNote('override and probe trials', cpu));
    const noisePct = noiseOf(cpu);
    // Each trial set is judged by its slowest trial.
    const propagationRow = (figure: string, xs: number[]): void => {
      report.rows.push({
        phase: 'workers',
        figure,
        value: `median ${ms(median(xs))} ms, max ${ms(Math.max(...xs))} ms`,
        target: `≤ ${PROPAGATION_TARGET_MS} ms`,
        met: Math.max(...xs) <= PROPAGATION_TARGET_MS,
        noisePct,
      });
    };
    propagationRow(`--workers 2: PUT drain → every answer of a 16-query batch from the standby (${trials} trials, from the HTTP 200)`, drain);
    propagationRow(`--workers 2: DELETE override → every answer from the primary again (${trials} trials)`, clear);
    propagationRow(`--workers 2: "member down" logged → every answer from the standby (${probeTrials} trials; TCP check every 1 s, fall 1)`, downMs);
    propagationRow(`--workers 2: "member up" logged → every answer from the primary (${probeTrials} trials, rise 1)`, upMs);
  } finally {
    await stopServer(server);
    await acceptor?.close();
  }
}

// ---------------------------------------------------------------------------------------------

function markdown(result: Record<string, unknown>, rows: Row[], phases: PhaseReport[]): string {
  const host = result.host as ReturnType<typeof hostInfo>;
  const lines = [
    `# Meridian targets — ${String(result.started)}`,
    '',
    `${host.nproc} CPUs, ${host.cpuModel}, ${host.memoryGiB} GiB, ${host.kernel}, Node ${host.node}, dnsperf ${String(result.dnsperf)}; Meridian at ${String(result.commit)}, node flags: ${(result.serverNodeFlags as string[]).join(' ') || 'none'}.`,
    '',
    '| figure | measured | target | met? | noise |',
    '|---|---|---|---|---:|',
    ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.target} | ${r.met === null ? '–' : r.met ? 'met' : '**missed**'} | ${noiseText(r)} |`),
    '',
    `noise: CPU of other processes + steal during the measurement, % of one core; ⚠ above ${NOISE_LIMIT_PCT} % (the figure may be disturbed: run again).`,
    '',
  ];
  for (const p of phases) {
    lines.push(`## ${p.phase} (${p.seconds.toFixed(0)} s${p.lockWaitMs > 1000 ? `, waited ${(p.lockWaitMs / 1000).toFixed(0)} s for the lock` : ''})`, '');
    if (p.error) lines.push(`**failed:** ${p.error.split('\n')[0]}`, '');
    for (const n of p.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function noiseText(r: Row): string {
  if (r.noisePct === undefined) return '';
  return `${Math.round(r.noisePct)} %${r.noisePct > NOISE_LIMIT_PCT ? ' ⚠' : ''}`;
}

function textTable(rows: Row[]): string {
  const cells = rows.map((r) => [r.figure, r.value, r.target, r.met === null ? '–' : r.met ? 'met' : 'MISSED', noiseText(r)]);
  const head = ['figure', 'measured', 'target', 'met?', 'noise'];
  return ['| ' + head.join(' | ') + ' |', '|---|---|---|---|---:|', ...cells.map((c) => `| ${c.join(' | ')} |`)].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      phases: { type: 'string' },
      'probe-seconds': { type: 'string', default: '30' },
      trials: { type: 'string', default: '20' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const wanted = (values.phases?.split(',').map((s) => s.trim()) ?? [...PHASES]) as Phase[];
  const bad = wanted.filter((p) => !PHASES.includes(p));
  if (bad.length > 0) {
    process.stderr.write(`unknown phase ${bad.join(', ')}\n${USAGE}`);
    return 2;
  }
  const probeSeconds = Number(values['probe-seconds']);
  const trials = Number(values.trials);
  if (!(probeSeconds > 0) || !(trials >= 1)) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (dnsperfVersion() === null && (wanted.includes('rss') || wanted.includes('reload'))) {
    process.stderr.write('dnsperf is missing (apt-get install dnsperf, or run npm run bench once: bench/run.sh installs it)\n');
    return 1;
  }
  scratch = mkdtempSync(path.join(os.tmpdir(), 'meridian-targets-'));
  const started = new Date();
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO, encoding: 'utf8' }).trim();
    if (dirty !== '') commit += ' (src/ has uncommitted changes)';
  } catch {
    // not a git checkout
  }
  log(`scratch ${scratch}; lock ${BENCH_LOCK}${lockHeldByAncestor() ? ' (held by the caller for the whole run)' : ' (taken for each phase)'}`);
  const limitsMs: Record<Phase, number> = { rss: 150_000, reload: 120_000, probes: (probeSeconds + 150) * 1000, workers: 60_000 + trials * 8000 };
  const phases: PhaseReport[] = [];
  for (const phase of wanted) {
    const report: PhaseReport = { phase, ok: false, error: null, seconds: 0, lockWaitMs: 0, details: {}, notes: [], rows: [] };
    phases.push(report);
    const lock = await takeBenchLock(phase, 30 * 60_000, log);
    report.lockWaitMs = lock.waitedMs;
    const t0 = performance.now();
    log(`phase ${phase} (hard limit ${limitsMs[phase] / 1000} s)`);
    try {
      const run = phase === 'rss' ? phaseRss(report) : phase === 'reload' ? phaseReload(report) : phase === 'probes' ? phaseProbes(report, probeSeconds) : phaseWorkers(report, trials);
      await withTimeout(phase, limitsMs[phase], run);
      report.ok = true;
    } catch (error) {
      report.error = error instanceof Error ? error.message : String(error);
      report.rows.push({ phase, figure: `${phase}: phase failed`, value: report.error.split('\n')[0]!, target: '–', met: false });
      log(`phase ${phase} failed: ${report.error}`);
      // whatever the phase left running
      killRunningDnsperf();
      killAllSync();
    } finally {
      report.seconds = (performance.now() - t0) / 1000;
      await lock.release();
    }
  }
  const rows = phases.flatMap((p) => p.rows);
  const result = {
    started: started.toISOString(),
    host: hostInfo(),
    dnsperf: dnsperfVersion(),
    commit,
    serverNodeFlags: serverNodeFlags(),
    lock: BENCH_LOCK,
    zone: { names: 3 + BIG_STATIC_NAMES + BIG_GEO_NAMES, static: BIG_STATIC_NAMES, geo: BIG_GEO_NAMES },
    rows,
    phases,
  };
  const outDir = path.join(REPO, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const stamp = started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const jsonFile = path.join(outDir, `targets-${stamp}.json`);
  const mdFile = path.join(outDir, `targets-${stamp}.md`);
  writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(mdFile, markdown(result, rows, phases));
  process.stdout.write(`\n${textTable(rows)}\n\n`);
  for (const p of phases) for (const n of p.notes) process.stdout.write(`${p.phase}: ${n}\n`);
  process.stdout.write(`\nresults: ${path.relative(REPO, jsonFile)}, ${path.relative(REPO, mdFile)}\n`);
  if (values.keep || phases.some((p) => !p.ok)) {
    keepScratch = true;
    process.stdout.write(`scratch (zones, server logs, dnsperf output) kept: ${scratch}\n`);
  }
  else {
    rmSync(scratch, { recursive: true, force: true });
    scratch = '';
  }
  return phases.some((p) => !p.ok) ? 1 : 0;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping everything this benchmark started\n`);
    killRunningDnsperf();
    killAllSync();
    releaseLocksSync();
    process.exit(130);
  });
}
process.on('exit', () => {
  killRunningDnsperf();
  killAllSync();
  releaseLocksSync();
  if (scratch !== '' && !keepScratch) rmSync(scratch, { recursive: true, force: true });
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
