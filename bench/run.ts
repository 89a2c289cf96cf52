/**
 * Benchmark driver (`npm run bench [-- OPTIONS]`, via bench/run.sh which builds and checks dnsperf).
 * For each server under test × scenario: copy of the contract zones → start the server on a free
 * port (pinned to its CPUs) → check every query gets its expected answer → dnsperf warm-up →
 * measured dnsperf run with /proc snapshots around it → stop the server by PID → next.
 * Results: bench/results/<stamp>/results.{json,md} (+ logs, profiles), bench/results/latest.{json,md}.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { dnsperfVersion, killRunningDnsperf, runDnsperf, type DnsperfRun } from './lib/dnsperf.js';
import { answerAddresses, benchQuery, ecsDnsperfArgument, findFreePort, udpExchange } from './lib/net.js';
import {
  allProcessesCpu, hostInfo, otherProcessesCpu, processTree, systemCpu, topOtherProcesses, treeCpuMicros, treeMemory,
} from './lib/proc.js';
import { killAllSync } from './lib/processes.js';
import { comparisonText, comparisonVerdicts, markdownReport, textTable, verdictLine, COLUMN_NOTES, type BenchReport, type RunResult, type SameNoise } from './lib/report.js';
import { driveInterleaved } from './lib/interleave.js';
import { defaultScenarios, expectedRcode, writeDataFile, type Scenario } from './lib/scenarios.js';
import { SERVERS, type ComparisonSetup, type RunningServer, type ServerUnderTest, type ServerVariant } from './lib/servers.js';
import { summariseProfile } from './lib/cpu-profile.js';
import { loadComparisonZone, memberAddresses, meridianZoneYaml, type HealthCheck } from './lib/compare-zone.js';
import { geoip2CountryDatabase } from './lib/geoip2-country.js';
import { startHealthEndpoint, type HealthEndpoint } from './lib/health-http.js';
import { fleetConvergenceLine, runFleetConvergence } from './lib/fleet-convergence.js';
import { embeddedGeoDatabasePath } from '../src/geo/index.js';
import { trustedKey, verifySection, type TrustedKey } from '../test/support/dnssec-verifier.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const DNSPERF_TIMEOUT_S = 2;
/** % of one core used by neither the server nor dnsperf above which a run is flagged */
const NOISE_LIMIT_PCT = 20;

/** Health checks in the comparison (all servers): HTTP GET /healthz every 2 s (gdnsd's minimum interval). */
const COMPARE_CHECK: Omit<HealthCheck, 'port'> = { path: '/healthz', intervalS: 2, timeoutS: 1, rise: 2, fall: 3 };

const USAGE = `usage: npm run bench [-- OPTIONS]
  --compare          only the three-server comparison (Meridian, PowerDNS geoip backend, gdnsd):
                     the scenarios ${defaultScenarios().filter((s) => s.comparison).map((s) => s.id).join(', ')}
                     then its tail phase: gdnsd, the floor and each fixed-rate Meridian row up at once,
                     driven in turn in 1 s slices (the p99 targets are judged on it: same noise for all)
  --same-noise-rounds N  rounds of that phase (default 10; 0: none, the p99 targets then use the rows)
  --scenarios LIST   comma-separated (default: all; "compare" = the comparison set): ${defaultScenarios().map((s) => s.id).join(', ')}
  --servers LIST     comma-separated (default: all available): ${SERVERS.map((s) => s.id).join(', ')}
                     (pdns and gdnsd run the comparison scenarios only)
  --duration S       override every scenario's measured duration (seconds)
  --quick            a third of the default durations (smoke test; numbers are noisier)
  --clients N        override every scenario's dnsperf -c (default 4; more for servers that spread load by
                     source port, SO_REUSEPORT)
  --warmup S         warm-up seconds before each measurement (default 2)
  --workers N        run every scenario with this many Meridian processes (--workers N); default: as the
                     scenario says (1, the issue's single-process target; static-workers: one per CPU)
  --pin MODE         auto (default): the server's N processes on CPUs 0..N-1, dnsperf on the others, when
                     taskset exists and a CPU is left for dnsperf (else unpinned; the comparison scenarios
                     are never pinned under auto); off: never pin;
                     SERVER_CPUS/CLIENT_CPUS, e.g. 0/1 or 0-1/2-3, for every run
  --profile          run the server with node --cpu-prof and summarise where its time goes
  --fail-on-target   exit 1 when a scenario's target is not met
  --list             print the scenarios and exit
  --fleet            only the fleet scenario (opt-in, ~30 s): nats-server + 3 instances with probe sources;
                     a target flipped for one source so that the quorum moves, --flips times (default 20);
                     the time from the deciding view's publication to every instance answering alike
  --flips N          flips of the fleet scenario (default 20)
`;

interface Placement {
  serverCpus: string | null;
  clientCpus: string | null;
  threads: number;
  description: string;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function countCpus(list: string): number {
  return list.split(',').reduce((n, part) => {
    const [a, b] = part.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a! + 1);
  }, 0);
}

/**
 * Where server and dnsperf run. auto: the server's worker processes get CPUs 0..W-1 and dnsperf the
 * rest — only when at least one CPU is left for dnsperf; otherwise (e.g. 2 workers on 2 CPUs)
 * nothing is pinned and the two share the machine.
 */
function placement(mode: string, nproc: number, workers: number, taskset: boolean): Placement {
  const unpinned = (why: string): Placement => ({
    serverCpus: null,
    clientCpus: null,
    threads: 1,
    description: `not pinned (${why}), dnsperf -T 1`,
  });
  if (mode === 'off') return unpinned('--pin off');
  let serverCpus: string;
  let clientCpus: string;
  if (mode === 'auto') {
    if (!taskset) return unpinned('no taskset');
    if (workers >= nproc) return unpinned(`${workers} server process${workers > 1 ? 'es' : ''} on ${nproc} CPU${nproc > 1 ? 's' : ''}`);
    serverCpus = workers === 1 ? '0' : `0-${workers - 1}`;
    clientCpus = workers === nproc - 1 ? String(nproc - 1) : `${workers}-${nproc - 1}`;
  } else {
    const [s, c] = mode.split('/');
    if (!s || !c) throw new Error(`--pin: expected auto, off or SERVER_CPUS/CLIENT_CPUS, got ${mode}`);
    serverCpus = s;
    clientCpus = c;
  }
  // dnsperf -T N runs N send/receive thread pairs; one pair per client CPU, no more than 4.
  const threads = Math.max(1, Math.min(4, countCpus(clientCpus)));
  return {
    serverCpus,
    clientCpus,
    threads,
    description: `server on CPU ${serverCpus}, dnsperf on CPU ${clientCpus} (taskset), dnsperf -T ${threads}`,
  };
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const NSEC = 47;
const NSEC3 = 50;

/**
 * Every distinct query of the scenario, once, with its expected response code (and an answer for
 * NOERROR); a DO=1 query to a signed server must carry RRSIGs, and every RRset of its answer and
 * authority sections must validate with the zone's key (test/support/dnssec-verifier.ts).
 */
async function preflight(server: RunningServer, serverId: string, scenario: Scenario): Promise<{ queries: number; problems: string[] }> {
  const problems: string[] = [];
  const anchor: TrustedKey | null = server.trustAnchor === undefined ? null : trustedKey(server.trustAnchor);
  let id = 1;
  for (const q of scenario.queries) {
    const ecs = q.ecs ?? scenario.ecs;
    const label = `${q.name} ${q.type}${ecs ? ` ECS ${ecs}` : ''}${q.dnssecOk ? ' DO' : ''}`;
    const expect = expectedRcode(q, serverId);
    try {
      const { response, bytes } = await udpExchange(server.host, server.port, benchQuery(q.name, q.type, { id: id++, ecs, dnssecOk: q.dnssecOk }), 2000);
      const signed = [...response.answer, ...response.authority];
      if (response.rcodeName !== expect) problems.push(`${label}: ${response.rcodeName}, expected ${expect}`);
      else if (expect === 'NOERROR' && response.answer.length === 0 && q.denial !== true) problems.push(`${label}: NOERROR without answers`);
      else if (q.denial === true && !response.authority.some((record) => record.typeCode === NSEC || record.typeCode === NSEC3)) problems.push(`${label}: no NSEC or NSEC3 in the denial`);
      else if (q.dnssecOk === true && anchor !== null && !signed.some((record) => record.type === 'RRSIG')) problems.push(`${label}: no RRSIG in a DO=1 answer from a signed server`);
      else if (q.expectA) {
        const got = answerAddresses(bytes).sort();
        if (got.join(',') !== q.expectA.join(',')) {
          problems.push(`${label}: A ${got.join(' ') || '(none)'}, expected ${q.expectA.join(' ')}${q.why ? ` (${q.why})` : ''}`);
        }
      }
      if (q.dnssecOk === true && anchor !== null) {
        try {
          verifySection(signed, anchor);
        } catch (error) {
          problems.push(`${label}: ${(error as Error).message}`);
        }
      }
      if (response.flags.tc) problems.push(`${label}: truncated (TC)`);
    } catch (error) {
      problems.push(`${label}: ${(error as Error).message}`);
    }
  }
  return { queries: scenario.queries.length, problems };
}

interface RunContext {
  work: string;
  zonesDir: string;
  resultsDir: string;
  pinMode: string;
  nproc: number;
  taskset: boolean;
  workersOverride: number | null;
  warmupS: number;
  durationOverride: number | null;
  durationScale: number;
  clientsOverride: number | null;
  profile: boolean;
  comparison: ComparisonSetup | null;
  health: HealthEndpoint | null;
}

async function runOne(sut: ServerUnderTest, given: Scenario, ctx: RunContext): Promise<RunResult> {
  const scenario: Scenario = ctx.workersOverride === null
    ? given
    : { ...given, variant: { ...given.variant, workers: ctx.workersOverride } };
  const place = scenario.unpinned && ctx.pinMode === 'auto'
    ? { serverCpus: null, clientCpus: null, threads: 1, description: 'not pinned (comparison: server and dnsperf share the machine), dnsperf -T 1' }
    : placement(ctx.pinMode, ctx.nproc, scenario.variant.workers, ctx.taskset);
  const durationS = ctx.durationOverride ?? Math.max(3, Math.round(scenario.durationS * ctx.durationScale));
  const result: RunResult = {
    server: sut.id,
    serverLabel: sut.label,
    scenario: scenario.id,
    scenarioTitle: scenario.title,
    scenarioNotes: scenario.notes,
    variant: scenario.variant,
    serverCommand: '',
    serverConfig: '',
    comparison: scenario.comparison?.kind ?? null,
    healthProbes: null,
    dnsperfCommand: '',
    serverCpus: place.serverCpus,
    clientCpus: place.clientCpus,
    placement: place.description,
    durationS,
    warmupS: ctx.warmupS,
    offeredQps: scenario.offeredQps ?? null,
    qps: NaN,
    sent: 0,
    completed: 0,
    lost: 0,
    rcodes: {},
    unexpectedRcodes: {},
    latency: { avgMs: NaN, minMs: NaN, maxMs: NaN, stddevMs: NaN },
    perSecondQps: { min: NaN, median: NaN, max: NaN, samples: [] },
    cpu: { serverMicros: NaN, usPerQuery: NaN, serverCorePct: NaN, clientCorePct: null, otherCorePct: NaN, otherProcessesCorePct: NaN, stealPct: NaN, machineBusyPct: NaN },
    memory: { idleRssKiB: NaN, rssKiB: NaN, hwmKiB: NaN, processes: 0, threads: null },
    preflight: { queries: 0, problems: [] },
    target: null,
    profile: null,
    warnings: [],
    error: null,
  };
  const tag = `${sut.id}-${scenario.id}`;
  const workDir = path.join(ctx.work, tag);
  mkdirSync(workDir, { recursive: true });
  const logsDir = path.join(ctx.resultsDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const data = writeDataFile(scenario, path.join(workDir, scenario.queries.some((q) => q.ecs) ? 'queries.bin' : 'queries.txt'));
  const port = await findFreePort(HOST);
  const profileDir = path.join(ctx.resultsDir, 'profiles', tag);
  let server: RunningServer | null = null;
  const hitsBefore = ctx.health ? [...ctx.health.hits.values()].reduce((a, b) => a + b, 0) : 0;
  // The comparison zone: for every server in a comparison, for the peers only in a scenario that says so.
  const onComparisonZone = scenario.comparison !== undefined || (scenario.comparisonZoneForPeers === true && !sut.contractZone);
  try {
    if (onComparisonZone && ctx.comparison === null) throw new Error('comparison setup missing');
    server = await sut.start(
      {
        host: HOST,
        port,
        zonesDir: ctx.zonesDir,
        variant: scenario.variant,
        cpus: place.serverCpus,
        workDir,
        logFile: path.join(logsDir, `${tag}.server.log`),
        cpuProfileDir: ctx.profile ? profileDir : undefined,
        comparison: onComparisonZone ? ctx.comparison! : undefined,
      },
      REPO,
    );
    result.serverCommand = server.commandLine;
    result.serverConfig = server.config;
    if (sut.id !== 'meridian') {
      result.procsLabel = '1';
      result.healthLabel = onComparisonZone ? (sut.id === 'pdns' || sut.answersChecked === false ? 'none' : scenario.variant.health ? 'on' : 'off') : '–';
    }
    if (sut.answersChecked !== false) result.preflight = await preflight(server, sut.id, scenario);
    const base: DnsperfRun = {
      host: server.host,
      port: server.port,
      dataFile: data.path,
      binary: data.binary,
      durationS: ctx.warmupS,
      clients: Math.max(ctx.clientsOverride ?? scenario.clients, place.threads),
      threads: place.threads,
      maxOutstanding: scenario.maxOutstanding,
      offeredQps: scenario.offeredQps,
      ednsOptions: scenario.ecs ? [ecsDnsperfArgument(scenario.ecs)] : [],
      perQuery: false,
      timeoutS: DNSPERF_TIMEOUT_S,
      cpus: place.clientCpus,
      outFile: path.join(logsDir, `${tag}.warmup.dnsperf.txt`),
      errFile: path.join(logsDir, `${tag}.warmup.dnsperf.err`),
    };
    if (ctx.warmupS > 0) {
      const warm = await runDnsperf(base);
      if (warm.completed === 0) throw new Error(`warm-up got no answers: ${warm.warnings.join('; ')}`);
    }
    result.memory.idleRssKiB = treeMemory(server.pid)?.rssKiB ?? NaN;

    // The server may be several processes (a primary and its workers): CPU and memory are summed over its tree.
    const treeBefore = processTree(server.pid);
    const cpuBefore = treeCpuMicros(server.pid);
    const sysBefore = systemCpu();
    const allBefore = allProcessesCpu();
    const t0 = process.hrtime.bigint();
    const perf = await runDnsperf({
      ...base,
      durationS,
      perQuery: true,
      outFile: path.join(logsDir, `${tag}.dnsperf.txt`),
      errFile: path.join(logsDir, `${tag}.dnsperf.err`),
    });
    const wallMicros = Number(process.hrtime.bigint() - t0) / 1000;
    const cpuAfter = treeCpuMicros(server.pid);
    const sysAfter = systemCpu();
    const allAfter = allProcessesCpu();
    const memory = treeMemory(server.pid);
    if (cpuBefore === null || cpuAfter === null || memory === null) throw new Error('server exited during the measurement');
    const serverPids = new Set([...treeBefore, ...processTree(server.pid), process.pid]);
    result.memory.threads = memory.threads;
    result.memory.processes = memory.processes;
    if (cpuAfter.processes !== treeBefore.length) {
      result.warnings.push(`the server had ${treeBefore.length} processes before the run and ${cpuAfter.processes} after`);
    }

    result.dnsperfCommand = perf.commandLine;
    result.qps = perf.qps;
    result.sent = perf.sent;
    result.completed = perf.completed;
    result.lost = perf.lost;
    result.rcodes = perf.rcodes;
    const allowed = new Set(scenario.queries.map((q) => expectedRcode(q, sut.id) as string));
    if (sut.answersChecked !== false) for (const [code, n] of Object.entries(perf.rcodes)) if (!allowed.has(code)) result.unexpectedRcodes[code] = n;
    if (Object.keys(result.unexpectedRcodes).length > 0) {
      result.warnings.push(`unexpected response codes: ${JSON.stringify(result.unexpectedRcodes)}`);
    }
    result.latency = perf.latency;
    // The first 1 s interval is ramp-up (and dnsperf -Q sometimes reports ~0 for it): left out of min–max.
    const samples = perf.perSecondQps.length >= 2 ? perf.perSecondQps.slice(1) : perf.perSecondQps;
    result.perSecondQps = {
      min: samples.length ? Math.min(...samples) : NaN,
      median: median(samples),
      max: samples.length ? Math.max(...samples) : NaN,
      samples: perf.perSecondQps.map((s) => Math.round(s)),
    };
    const serverMicros = cpuAfter.micros - cpuBefore.micros;
    const other = otherProcessesCpu(allBefore, allAfter, serverPids);
    const sysTotal = sysAfter.totalMicros - sysBefore.totalMicros;
    result.cpu = {
      serverMicros,
      usPerQuery: perf.completed > 0 ? serverMicros / perf.completed : NaN,
      serverCorePct: (100 * serverMicros) / wallMicros,
      clientCorePct: perf.clientCpuMicros === null ? null : (100 * perf.clientCpuMicros) / wallMicros,
      otherCorePct: Math.max(
        0,
        (100 * (sysAfter.busyMicros - sysBefore.busyMicros - serverMicros - (perf.clientCpuMicros ?? 0))) / wallMicros,
      ),
      otherProcessesCorePct: (100 * other) / wallMicros,
      stealPct: sysTotal > 0 ? (100 * (sysAfter.stealMicros - sysBefore.stealMicros)) / sysTotal : 0,
      machineBusyPct: sysTotal > 0 ? (100 * (sysAfter.busyMicros - sysBefore.busyMicros)) / sysTotal : 0,
    };
    result.memory.rssKiB = memory.rssKiB;
    result.memory.hwmKiB = memory.hwmKiB;
    result.warnings.push(...perf.warnings);
    const stealCorePct = result.cpu.stealPct * ctx.nproc;
    if (result.cpu.otherCorePct > NOISE_LIMIT_PCT) {
      const top = topOtherProcesses(allBefore, allAfter, serverPids);
      result.warnings.push(
        `something else used ${result.cpu.otherCorePct.toFixed(0)}% of a core during the run: numbers are suspect` +
          ` (still running at the end: ${top.length ? top.join(', ') : 'none — short-lived processes'})`,
      );
    } else if (result.cpu.otherCorePct + stealCorePct > NOISE_LIMIT_PCT) {
      result.warnings.push(
        `the hypervisor took ${stealCorePct.toFixed(0)}% of a core (steal) during the run: numbers are suspect`,
      );
    }
    if (scenario.target) {
      result.target = {
        ...scenario.target,
        met: perf.qps >= scenario.target.minQps && perf.lost <= scenario.target.maxLost && result.preflight.problems.length === 0,
      };
    }
  } catch (error) {
    result.error = (error as Error).message;
    if (scenario.target) result.target = { ...scenario.target, met: false };
  } finally {
    if (server !== null) {
      const stopped = await server.stop();
      if (stopped.forced) result.warnings.push('server ignored SIGTERM for 3 s and was killed (SIGKILL)');
    }
    if (scenario.comparison && ctx.health) {
      // every probe the health endpoint answered while this server ran (servers run one at a time)
      result.healthProbes = [...ctx.health.hits.values()].reduce((a, b) => a + b, 0) - hitsBefore;
    }
  }
  if (ctx.profile) {
    // One profile per process and per worker thread: report the busiest, name the others.
    const files = existsSync(profileDir) ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    const summaries = files.map((f) => summariseProfile(path.join(profileDir, f))).sort((a, b) => b.busyMs - a.busyMs);
    result.profile = summaries[0] ?? null;
    if (summaries.length === 0) result.warnings.push(`no CPU profile written in ${profileDir}`);
    else if (summaries.length > 1) {
      result.warnings.push(
        `${summaries.length} CPU profiles (one per process and worker thread); summarised the busiest. Others: ` +
          summaries.slice(1).map((s) => `${path.basename(s.file)} ${s.busyMs} ms on CPU`).join(', '),
      );
    }
  }
  return result;
}

/**
 * `--compare`'s tail phase: gdnsd, the floor and every Meridian configuration of the fixed-rate rows
 * up at once, driven in turn in 1 s slices at the same rate (bench/lib/interleave.ts). The rows above
 * ran a minute apart, and on this VM a minute of the host decides a p99 more than the server does;
 * here every server meets the same minutes, so the p99 targets are judged on this phase.
 */
async function sameNoisePhase(available: readonly ServerUnderTest[], scenarios: readonly Scenario[], ctx: RunContext, rounds: number): Promise<SameNoise | null> {
  const latency = scenarios.filter((s) => s.comparison?.kind === 'latency' && s.offeredQps !== undefined);
  const gdnsdSut = available.find((s) => s.id === 'gdnsd');
  const meridianSut = available.find((s) => s.id === 'meridian');
  if (rounds < 1 || latency.length === 0 || gdnsdSut === undefined || meridianSut === undefined || ctx.comparison === null) return null;
  const withWorkers = (variant: ServerVariant): ServerVariant => (ctx.workersOverride === null ? variant : { ...variant, workers: ctx.workersOverride });
  const entries: { label: string; server: string; scenario: string | null; sut: ServerUnderTest; variant: ServerVariant }[] = [
    { label: 'gdnsd', server: 'gdnsd', scenario: null, sut: gdnsdSut, variant: latency[0]!.variant },
    ...available.filter((s) => s.id === 'floor').map((s) => ({ label: 'floor (C echo, not judged)', server: s.id, scenario: null, sut: s, variant: latency[0]!.variant })),
    ...latency
      .filter((s) => s.servers === undefined || s.servers.includes('meridian'))
      .map((s) => ({ label: `Meridian ${s.id}`, server: 'meridian', scenario: s.id, sut: meridianSut, variant: withWorkers(s.variant) })),
  ];
  const dir = path.join(ctx.work, 'same-noise');
  mkdirSync(dir, { recursive: true });
  const qps = latency[0]!.offeredQps!;
  process.stdout.write(`… same noise: ${entries.length} servers up at once, ${rounds} rounds × 1 s each at ${qps.toLocaleString('en-US')} q/s\n`);
  const running: RunningServer[] = [];
  try {
    for (const [i, e] of entries.entries()) {
      const workDir = path.join(dir, `server-${i}`);
      mkdirSync(workDir);
      running.push(await e.sut.start({ host: HOST, port: await findFreePort(HOST), zonesDir: ctx.zonesDir, variant: e.variant, cpus: null, workDir, logFile: path.join(ctx.resultsDir, 'logs', `same-noise-${i}-${e.server}.server.log`), comparison: ctx.comparison }, REPO));
    }
    const data = writeDataFile(latency[0]!, path.join(dir, 'queries.bin'));
    const rows = driveInterleaved(entries.map((e, i) => ({ label: e.label, port: running[i]!.port })), { rounds, sliceS: 1, qps, data, workDir: dir });
    return { rounds, sliceS: 1, qps, rows: rows.map((r, i) => ({ ...r, server: entries[i]!.server, scenario: entries[i]!.scenario })) };
  } finally {
    for (const server of running) await server.stop();
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenarios: { type: 'string' },
      servers: { type: 'string' },
      compare: { type: 'boolean', default: false },
      duration: { type: 'string' },
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      workers: { type: 'string' },
      warmup: { type: 'string', default: '2' },
      pin: { type: 'string', default: 'auto' },
      profile: { type: 'boolean', default: false },
      'fail-on-target': { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      fleet: { type: 'boolean', default: false },
      flips: { type: 'string', default: '20' },
      'same-noise-rounds': { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const all = defaultScenarios();
  if (values.list) {
    for (const s of all) process.stdout.write(`${s.id.padEnd(14)} ${s.durationS} s  ${s.title}\n    ${s.notes}\n`);
    return 0;
  }
  if (values.fleet) return fleetScenario(Number(values.flips));
  const pick = <T extends { id: string }>(list: readonly T[], wanted: string | undefined, what: string): T[] => {
    if (wanted === undefined) return [...list];
    return wanted.split(',').flatMap((id) => {
      if (what === 'scenario' && id.trim() === 'compare') return list.filter((x) => (x as unknown as Scenario).comparison);
      const found = list.find((x) => x.id === id.trim());
      if (!found) throw new Error(`unknown ${what} "${id}" (known: ${list.map((x) => x.id).join(', ')})`);
      return [found];
    });
  };
  const scenarios = values.compare
    ? all.filter((s) => s.comparison && (values.scenarios === undefined || values.scenarios.split(',').includes(s.id)))
    : pick(all, values.scenarios, 'scenario');
  const servers = pick(SERVERS, values.servers, 'server');
  const host = hostInfo();
  const dnsperf = dnsperfVersion();
  if (dnsperf === null) throw new Error('dnsperf not found (bench/run.sh installs it: apt-get install dnsperf)');
  const taskset = hasTaskset();
  placement(values.pin!, host.nproc, 1, taskset); // validate --pin before starting anything
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const resultsRoot = path.join(REPO, 'bench', 'results');
  const resultsDir = path.join(resultsRoot, stamp);
  mkdirSync(resultsDir, { recursive: true });
  // bench/run.sh passes a scratch directory it removes itself even if this process is killed
  const work = mkdtempSync(path.join(process.env.BENCH_SCRATCH ?? os.tmpdir(), 'meridian-bench-'));
  scratch = work;
  const zonesDir = path.join(work, 'zones');
  cpSync(path.join(REPO, 'zones'), zonesDir, { recursive: true });

  // The comparison: one GeoIP2-Country file for all, the health endpoint, Meridian's comparison zone.
  let comparison: ComparisonSetup | null = null;
  let health: HealthEndpoint | null = null;
  let geoNote: string | null = null;
  if (scenarios.some((s) => s.comparison || (s.comparisonZoneForPeers && servers.some((sut) => !sut.contractZone)))) {
    const source = embeddedGeoDatabasePath();
    process.stdout.write(`comparison: GeoIP2-Country copy of ${path.basename(source)} … `);
    const db = geoip2CountryDatabase(source, path.join(resultsRoot, 'cache'));
    geoNote = `${path.relative(REPO, db.file)}: ${db.networks.toLocaleString('en-US')} networks of ${path.basename(source)} as GeoIP2-Country ` +
      `(country.iso_code + continent.code)${db.cached ? ', cached' : `, converted in ${db.seconds.toFixed(1)} s`}` +
      (db.withoutContinent ? `; ${db.withoutContinent} networks have a country without continent` : '');
    process.stdout.write(`${db.cached ? 'cached' : `converted in ${db.seconds.toFixed(1)} s`} (${db.networks.toLocaleString('en-US')} networks)\n`);
    const zone = loadComparisonZone(path.join(zonesDir, 'example.test.yaml'));
    health = await startHealthEndpoint(memberAddresses(zone), COMPARE_CHECK.path);
    healthEndpoint = health;
    const check: HealthCheck = { ...COMPARE_CHECK, port: health.port };
    const meridianZonesDir = path.join(work, 'compare-zones');
    mkdirSync(meridianZonesDir, { recursive: true });
    writeFileSync(path.join(meridianZonesDir, 'example.test.yaml'), meridianZoneYaml(zone, check));
    comparison = { zone, geoipFile: db.file, check, meridianZonesDir };
    process.stdout.write(`comparison: health endpoint http://{${health.addresses.join(',')}}:${health.port}${health.path}\n`);
  }

  const ctx: RunContext = {
    work,
    zonesDir,
    resultsDir,
    pinMode: values.pin!,
    nproc: host.nproc,
    taskset,
    workersOverride: values.workers === undefined ? null : Number(values.workers),
    warmupS: Number(values.warmup),
    durationOverride: values.duration === undefined ? null : Number(values.duration),
    durationScale: values.quick ? 1 / 3 : 1,
    clientsOverride: values.clients === undefined ? null : Number(values.clients),
    profile: values.profile!,
    comparison,
    health,
  };
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    host,
    dnsperf,
    pinning: values.pin === 'auto'
      ? `auto: a server with N processes on CPUs 0..N-1 and dnsperf on the others, unless no CPU is left for dnsperf${taskset ? '' : ' (taskset missing: nothing pinned)'}`
      : `--pin ${values.pin!}`,
    servers: {},
    options: { ...values, dnsperfTimeoutS: DNSPERF_TIMEOUT_S },
    geoip: geoNote,
    healthCheck: comparison ? `HTTP GET ${comparison.check.path} on port ${comparison.check.port} of every pool member, every ${comparison.check.intervalS} s, timeout ${comparison.check.timeoutS} s` : null,
    runs: [],
  };
  process.stdout.write(
    `Meridian benchmark: ${host.nproc} × ${host.cpuModel}; dnsperf ${dnsperf}; CPU pinning: ${values.pin!}${taskset ? '' : ' (no taskset)'}\n` +
      `results → ${path.relative(REPO, resultsDir)}/\n`,
  );
  const available: ServerUnderTest[] = [];
  for (const sut of servers) {
    const why = sut.unavailable(REPO);
    if (why !== null) {
      process.stdout.write(`skipping ${sut.id}: ${why}\n`);
      continue;
    }
    report.servers[sut.id] = sut.describe(REPO);
    available.push(sut);
  }
  try {
    // Scenario by scenario, every server in turn: the servers of one comparison run minutes apart, not a whole run apart.
    for (const scenario of scenarios) {
      for (const sut of available) {
        if (!sut.contractZone && !scenario.comparison && !scenario.comparisonZoneForPeers) continue;
        if (scenario.servers && !scenario.servers.includes(sut.id)) continue;
        const label = `${sut.id} / ${scenario.id}`;
        process.stdout.write(`… ${label.padEnd(28)}`);
        const r = await runOne(sut, scenario, ctx);
        report.runs.push(r);
        process.stdout.write(
          r.error !== null
            ? `ERROR: ${r.error.split('\n')[0]}\n`
            : `${Math.round(r.qps).toLocaleString('en-US')} q/s, ${r.lost} lost, p99 ${r.latency.p99Ms?.toFixed(3) ?? '–'} ms, ` +
                `${r.cpu.usPerQuery.toFixed(1)} µs CPU/q${r.preflight.problems.length ? ` — PREFLIGHT: ${r.preflight.problems.join('; ')}` : ''}\n`,
        );
        for (const w of r.warnings) process.stdout.write(`    warning: ${w}\n`);
      }
    }
    if (values.compare) report.sameNoise = await sameNoisePhase(available, scenarios, ctx, Number(values['same-noise-rounds']));
  } finally {
    if (health !== null) {
      await health.close();
      healthEndpoint = null;
    }
    rmSync(work, { recursive: true, force: true });
  }
  report.finishedAt = new Date().toISOString();
  writeFileSync(path.join(resultsDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(resultsDir, 'results.md'), markdownReport(report));
  copyFileSync(path.join(resultsDir, 'results.json'), path.join(resultsRoot, 'latest.json'));
  copyFileSync(path.join(resultsDir, 'results.md'), path.join(resultsRoot, 'latest.md'));

  process.stdout.write(`\n${textTable(report.runs)}\n\n${COLUMN_NOTES.replace(/\*\*/g, '').replace(/`/g, '')}\n\n`);
  const cmp = comparisonText(report);
  if (cmp !== '') process.stdout.write(`${cmp}\n\n`);
  const verdicts = report.runs.filter((r) => r.target !== null);
  for (const r of verdicts) process.stdout.write(`${verdictLine(r)}\n`);
  process.stdout.write(`\nreport: ${path.relative(REPO, path.join(resultsDir, 'results.md'))} (also bench/results/latest.md, .json)\n`);
  if (report.runs.some((r) => r.profile)) process.stdout.write(`CPU profiles: ${path.relative(REPO, path.join(resultsDir, 'profiles'))}/ (summaries in the report)\n`);
  const failed = report.runs.some((r) => r.error !== null);
  const missed = verdicts.some((r) => !r.target!.met) || comparisonVerdicts(report.runs, report.sameNoise).some((v) => !v.met);
  if (failed) return 1;
  return missed && values['fail-on-target'] ? 1 : 0;
}

/**
 * `--fleet`: the fleet scenario alone (it needs nats-server, not dnsperf). Results:
 * bench/results/<stamp>/fleet.json, copied to bench/results/latest-fleet.json.
 */
async function fleetScenario(flips: number): Promise<number> {
  if (!Number.isInteger(flips) || flips < 1) throw new Error(`--flips: expected a whole number of flips, got ${flips}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const resultsRoot = path.join(REPO, 'bench', 'results');
  const resultsDir = path.join(resultsRoot, stamp);
  mkdirSync(resultsDir, { recursive: true });
  const work = mkdtempSync(path.join(process.env.BENCH_SCRATCH ?? os.tmpdir(), 'meridian-bench-fleet-'));
  scratch = work;
  try {
    const result = await runFleetConvergence({ repoRoot: REPO, workDir: work, flips, log: (line) => process.stdout.write(`${line}\n`) });
    const report = { startedAt: stamp, host: hostInfo(), ...result };
    writeFileSync(path.join(resultsDir, 'fleet.json'), `${JSON.stringify(report, null, 2)}\n`);
    copyFileSync(path.join(resultsDir, 'fleet.json'), path.join(resultsRoot, 'latest-fleet.json'));
    process.stdout.write(`\n${fleetConvergenceLine(result)}\nreport: ${path.relative(REPO, path.join(resultsDir, 'fleet.json'))} (also bench/results/latest-fleet.json)\n`);
    return result.error === null ? 0 : 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** scratch directory of the run in progress, removed on the way out whatever happens */
let scratch: string | null = null;
/** the comparison's HTTP health endpoint, closed on the way out */
let healthEndpoint: HealthEndpoint | null = null;

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping dnsperf and the server under test\n`);
    killRunningDnsperf();
    killAllSync();
    process.exit(130);
  });
}
process.on('exit', () => {
  killRunningDnsperf();
  killAllSync();
  if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
});

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
