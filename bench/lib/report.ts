/** Results of a benchmark run: their shape, the table printed at the end, and the Markdown report. */
import type { HostInfo } from './proc.js';
import type { LatencyStats } from './dnsperf.js';
import { effectiveIo, type ServerVariant } from './servers.js';
import { profileMarkdown, type ProfileSummary } from './cpu-profile.js';
import { roundsWithin, type InterleavedRow } from './interleave.js';

export interface RunResult {
  server: string;
  serverLabel: string;
  scenario: string;
  scenarioTitle: string;
  scenarioNotes: string;
  variant: ServerVariant;
  serverCommand: string;
  /** how the server was configured, one line (from the server entry) */
  serverConfig: string;
  /** part of the three-server comparison (throughput or latency), else null */
  comparison: 'throughput' | 'latency' | null;
  /** HTTP health probes the benchmark's endpoint answered while this server ran (comparison only) */
  healthProbes: number | null;
  /** procs / health columns for servers that are not Meridian (their variant does not apply) */
  procsLabel?: string;
  healthLabel?: string;
  dnsperfCommand: string;
  serverCpus: string | null;
  clientCpus: string | null;
  placement: string;
  durationS: number;
  warmupS: number;
  offeredQps: number | null;
  qps: number;
  sent: number;
  completed: number;
  lost: number;
  rcodes: Record<string, number>;
  /** response codes no query of the scenario should get (SERVFAIL, REFUSED, …) */
  unexpectedRcodes: Record<string, number>;
  latency: LatencyStats;
  perSecondQps: { min: number; median: number; max: number; samples: number[] };
  cpu: {
    serverMicros: number;
    usPerQuery: number;
    /** server CPU / wall time of the measurement, % of one core */
    serverCorePct: number;
    clientCorePct: number | null;
    /**
     * noise: machine-wide busy CPU (/proc/stat) minus server and dnsperf, % of one core — other
     * processes (including short-lived ones) plus kernel work charged to no process (some softirq)
     */
    otherCorePct: number;
    /** the part of that from processes still alive at the end (scan of /proc/PID/stat) */
    otherProcessesCorePct: number;
    /** hypervisor steal, % of the whole machine */
    stealPct: number;
    /** user+system+irq+softirq of all CPUs (/proc/stat), % of the whole machine */
    machineBusyPct: number;
  };
  /** summed over the server's processes (primary + workers) */
  memory: { idleRssKiB: number; rssKiB: number; hwmKiB: number; processes: number; threads: number | null };
  preflight: { queries: number; problems: string[] };
  target: { minQps: number; maxLost: number; met: boolean } | null;
  profile: ProfileSummary | null;
  warnings: string[];
  error: string | null;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  host: HostInfo;
  dnsperf: string | null;
  pinning: string;
  servers: Record<string, string>;
  options: Record<string, unknown>;
  /** the comparison's GeoIP database (how it was made) */
  geoip?: string | null;
  healthCheck?: string | null;
  runs: RunResult[];
  /** `--compare`'s tail phase: every fixed-rate row's server under the same noise (bench/lib/interleave.ts) */
  sameNoise?: SameNoise | null;
}

export interface SameNoise {
  rounds: number;
  sliceS: number;
  qps: number;
  /** gdnsd, the floor, and one row per Meridian fixed-rate scenario (`scenario` names it) */
  rows: (InterleavedRow & { server: string; scenario: string | null })[];
}

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fmt = (n: number | undefined, digits: number): string => (n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '–');
const mib = (kib: number): string => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : '–');

export function targetVerdict(r: RunResult): string {
  if (r.target === null) return '';
  return r.target.met ? 'MET' : 'NOT MET';
}

const HEADERS = [
  'scenario', 'server', 'procs', 'health', 'CPUs s/c', 'offered', 'q/s', '1 s min–max', 'lost', 'avg ms', 'p50 ms', 'p99 ms',
  'µs CPU/q', 'srv CPU', 'RSS MiB', 'peak MiB', 'noise', 'target',
];

function row(r: RunResult): string[] {
  const pin = r.serverCpus === null ? '–' : `${r.serverCpus}/${r.clientCpus}`;
  const head = [
    r.scenario, r.server + (r.profile ? ' (profiled)' : ''), r.procsLabel ?? String(r.variant.workers),
    r.healthLabel ?? (r.variant.health ? 'on' : 'off'), pin,
  ];
  if (r.error !== null) return [...head, ...Array<string>(12).fill('–'), 'ERROR'];
  return [
    ...head,
    r.offeredQps === null ? 'max' : fmtInt(r.offeredQps),
    fmtInt(r.qps),
    `${fmtInt(r.perSecondQps.min)}–${fmtInt(r.perSecondQps.max)}`,
    fmtInt(r.lost),
    fmt(r.latency.avgMs, 3),
    fmt(r.latency.p50Ms, 3),
    fmt(r.latency.p99Ms, 3),
    fmt(r.cpu.usPerQuery, 1),
    `${fmt(r.cpu.serverCorePct, 0)}%`,
    mib(r.memory.rssKiB),
    mib(r.memory.hwmKiB),
    `${fmt(r.cpu.otherCorePct, 0)}%${r.cpu.stealPct >= 1 ? ` +${fmt(r.cpu.stealPct, 0)}% st` : ''}`,
    targetVerdict(r),
  ];
}

export function textTable(runs: RunResult[]): string {
  const rows = [HEADERS, ...runs.map(row)];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const numeric = new Set([2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  const line = (cells: string[]): string =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(HEADERS), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function markdownTable(runs: RunResult[]): string {
  const right = new Set([2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  return [
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => (right.has(i) ? '---:' : '---')).join('|')}|`,
    ...runs.map((r) => `| ${row(r).join(' | ')} |`),
  ].join('\n');
}

export const COLUMN_NOTES = [
  '- **procs**: server processes (Meridian `--workers N`; 1 = a single process); **health**: health checks on, or off (`--no-health`: the pure answer path).',
  '- **CPUs s/c**: CPUs the server / dnsperf were pinned to with taskset (– = not pinned).',
  '- **offered**: dnsperf `-Q` (max = as fast as answers come back, bounded by `-q` outstanding queries).',
  '- **q/s**: answered queries per second over the whole run (dnsperf); **1 s min–max**: spread of the per-second rate (`-S 1`; the first interval, ramp-up, left out).',
  '- **lost**: queries without an answer within the dnsperf timeout.',
  '- **avg / p50 / p99 ms**: latency seen by dnsperf (avg from its summary; percentiles from its per-query `-v` lines).',
  '- **µs CPU/q**: server utime+stime (/proc/PID/stat, all threads, all its processes) during the measurement ÷ queries completed.',
  '- **srv CPU**: the same CPU time ÷ wall time, in % of one core (above 100 % with several processes).',
  '- **RSS / peak**: VmRSS after the run / VmHWM (peak since start) from /proc/PID/status, summed over the server\'s processes.',
  '- **noise**: busy CPU of the whole machine (/proc/stat) minus server and dnsperf during the measurement, in % of one core (other processes, kernel work charged to no process), plus hypervisor steal (% of the whole machine) if ≥ 1 %. A quiet machine shows ≲ 10 %; runs where this plus steal exceeds 20 % of a core are flagged as suspect.',
].join('\n');

export function markdownReport(report: BenchReport): string {
  const h = report.host;
  const lines: string[] = [
    `# Meridian benchmark — ${report.startedAt}`,
    '',
    `Machine: ${h.nproc} CPUs, ${h.cpuModel}, ${h.memoryGiB} GiB, ${h.kernel}${h.virtualised ? ` (${h.virtualised})` : ''}; Node ${h.node}; dnsperf ${report.dnsperf ?? '?'}.`,
    `CPU placement: ${report.pinning}.`,
    '',
    ...Object.entries(report.servers).map(([id, d]) => `- ${id}: ${d}`),
    '',
    markdownTable(report.runs),
    '',
    COLUMN_NOTES,
    '',
    comparisonMarkdown(report),
  ];
  const targets = report.runs.filter((r) => r.target !== null);
  if (targets.length > 0) {
    lines.push('## Target', '');
    for (const r of targets) lines.push(`- ${verdictLine(r)}`);
    lines.push('');
  }
  lines.push('## Runs', '');
  for (const r of report.runs) {
    lines.push(`### ${r.scenario} — ${r.serverLabel}`, '', `${r.scenarioTitle}: ${r.scenarioNotes}`, '');
    if (r.serverConfig) lines.push(`- configuration: ${r.serverConfig}`);
    if (r.healthProbes !== null) lines.push(`- health probes answered by the benchmark's endpoint while it ran: ${fmtInt(r.healthProbes)}`);
    lines.push(`- placement: ${r.placement}`, `- server: \`${r.serverCommand}\``, `- dnsperf: \`${r.dnsperfCommand}\` (after a ${r.warmupS} s warm-up)`);
    if (r.error !== null) lines.push(`- **error**: ${r.error.split('\n')[0]}`);
    else {
      lines.push(
        `- sent ${fmtInt(r.sent)}, completed ${fmtInt(r.completed)}, lost ${fmtInt(r.lost)}; response codes ${Object.entries(r.rcodes).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ')}`,
        `- latency ms: avg ${fmt(r.latency.avgMs, 3)}, min ${fmt(r.latency.minMs, 3)}, p50 ${fmt(r.latency.p50Ms, 3)}, p90 ${fmt(r.latency.p90Ms, 3)}, p99 ${fmt(r.latency.p99Ms, 3)}, p99.9 ${fmt(r.latency.p999Ms, 3)}, max ${fmt(r.latency.maxMs, 3)}`,
        `- p99 of each second, ms: ${(r.latency.perSecondP99Ms ?? []).map((v) => fmt(v, 3)).join(', ') || '–'}`,
        `- per-second q/s: ${r.perSecondQps.samples.map(fmtInt).join(', ')}`,
        `- CPU: server ${fmt(r.cpu.serverCorePct, 0)}% of a core (${fmt(r.cpu.usPerQuery, 2)} µs/query), dnsperf ${fmt(r.cpu.clientCorePct ?? NaN, 0)}%, everything else ${fmt(r.cpu.otherCorePct, 0)}% (of one core; ${fmt(r.cpu.otherProcessesCorePct, 0)}% in processes alive at the end); machine ${fmt(r.cpu.machineBusyPct, 0)}% busy, steal ${fmt(r.cpu.stealPct, 1)}% (of all cores)`,
        `- memory: RSS idle ${mib(r.memory.idleRssKiB)} MiB → after ${mib(r.memory.rssKiB)} MiB, peak ${mib(r.memory.hwmKiB)} MiB; ${r.memory.processes} process(es), ${r.memory.threads ?? '?'} threads`,
      );
      if (r.preflight.problems.length > 0) lines.push(`- **preflight problems**: ${r.preflight.problems.join('; ')}`);
      else lines.push(`- preflight: all ${r.preflight.queries} distinct queries got their expected answer`);
    }
    for (const w of r.warnings) lines.push(`- warning: ${w}`);
    if (r.profile) lines.push('', profileMarkdown(r.profile));
    lines.push('');
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The three-server comparison: one table with the ratios and the issue's targets.

export const COMPARE_TARGETS = {
  /** Meridian q/s ÷ PowerDNS q/s at max throughput, with 0 lost */
  vsPdns: 1.5,
  /** Meridian q/s ÷ gdnsd q/s at max throughput, with 0 lost (issue 19: dgram ≥ 0.6×, batched I/O ≥ 0.9×) */
  vsGdnsd: 0.6,
  vsGdnsdBatched: 0.9,
  /** Meridian p99 at 20,000 offered q/s, ms */
  p99Ms: 0.5,
  /** At 20,000 offered q/s, against gdnsd in the same run (issue 19): p99 ≤ 1.2×, p99.9 ≤ gdnsd's + 1 ms, CPU per query ≤ 1.5× */
  p99VsGdnsd: 1.2,
  p999OverGdnsdMs: 1,
  cpuVsGdnsd: 1.5,
} as const;

export interface ComparisonVerdict {
  text: string;
  met: boolean;
}

const ok = (r: RunResult | undefined): r is RunResult =>
  r !== undefined && r.error === null && r.preflight.problems.length === 0 && Number.isFinite(r.qps);

function comparisonRuns(runs: RunResult[]): RunResult[] {
  return runs.filter((r) => r.comparison !== null);
}

function peer(runs: RunResult[], scenario: string, server: string): RunResult | undefined {
  return runs.find((x) => x.scenario === scenario && x.server === server);
}

/** The scenario whose other servers a Meridian-only row is held against: compare-max-w1, compare-max-dgram → compare-max. */
function mainScenarioOf(scenario: string): string {
  return scenario.replace(/(-batched|-dgram|-w\d+)+$/, '');
}

/** Another server's row for a Meridian row: its own scenario's, else the main scenario's. */
function peerOf(runs: RunResult[], r: RunResult, other: string): RunResult | undefined {
  return peer(runs, r.scenario, other) ?? peer(runs, mainScenarioOf(r.scenario), other);
}

/** Ratio of a Meridian row's q/s to another server's q/s in the same scenario (or the main scenario for a -w1 or -dgram row). */
function ratio(runs: RunResult[], r: RunResult, other: string): number {
  if (r.server !== 'meridian' || r.comparison !== 'throughput') return NaN;
  const o = peerOf(runs, r, other);
  return ok(o) && ok(r) && o.qps > 0 ? r.qps / o.qps : NaN;
}

const C_HEADERS = [
  'scenario', 'server', 'configuration', 'offered', 'q/s', 'lost', 'avg ms', 'p99 ms', 'µs CPU/q', 'srv CPU', 'RSS MiB',
  'probes', 'noise', '÷ pdns', '÷ gdnsd', 'answers',
];

function comparisonRow(runs: RunResult[], r: RunResult): string[] {
  const rp = ratio(runs, r, 'pdns');
  const rg = ratio(runs, r, 'gdnsd');
  const head = [r.scenario, r.server, r.serverConfig || '–', r.offeredQps === null ? 'max' : fmtInt(r.offeredQps)];
  if (r.error !== null) return [...head, ...Array<string>(11).fill('–'), 'ERROR'];
  return [
    ...head,
    fmtInt(r.qps),
    fmtInt(r.lost),
    fmt(r.latency.avgMs, 3),
    fmt(r.latency.p99Ms, 3),
    fmt(r.cpu.usPerQuery, 1),
    `${fmt(r.cpu.serverCorePct, 0)}%`,
    mib(r.memory.rssKiB),
    r.healthProbes === null ? '–' : fmtInt(r.healthProbes),
    `${fmt(r.cpu.otherCorePct, 0)}%`,
    Number.isFinite(rp) ? `${rp.toFixed(2)}×` : '',
    Number.isFinite(rg) ? `${rg.toFixed(2)}×` : '',
    r.server === FLOOR ? 'not DNS' : r.preflight.problems.length === 0 ? 'ok' : `WRONG (${r.preflight.problems.length})`,
  ];
}

/** The floor's server id (bench/lib/servers.ts): answers its queries with themselves, never judged. */
const FLOOR = 'floor';

/**
 * What this machine gave a responder doing no DNS work at the same fixed rate in the same run, beside
 * gdnsd and Meridian: the floor a server's tail is read against (not a target).
 */
export function floorLines(runs: RunResult[]): string[] {
  const cmp = comparisonRuns(runs);
  const pct = (r: RunResult | undefined): string =>
    r === undefined || !ok(r) ? '–' : `p50 ${fmt(r.latency.p50Ms ?? NaN, 3)} / p99 ${fmt(r.latency.p99Ms ?? NaN, 3)} / p99.9 ${fmt(r.latency.p999Ms ?? NaN, 3)} ms, ${fmt(r.cpu.usPerQuery, 1)} µs CPU/q`;
  return cmp
    .filter((r) => r.server === FLOOR && r.comparison === 'latency')
    .map((f) => {
      const meridianRows = cmp.filter((m) => m.server === 'meridian' && m.comparison === 'latency');
      return `${f.scenario}: the floor (a C echo, no DNS work) ${pct(f)}; gdnsd ${pct(peer(cmp, f.scenario, 'gdnsd'))}; ` +
        meridianRows.map((m) => `${m.scenario} Meridian ${pct(m)}`).join('; ');
    });
}

/**
 * The issues' targets, judged on every Meridian row (its default, one process, and --io dgram); the
 * throughput goal against gdnsd is the batched one (≥ 0.9×) for a row that answered through batched I/O.
 */
export function comparisonVerdicts(runs: RunResult[], sameNoise?: SameNoise | null): ComparisonVerdict[] {
  const out: ComparisonVerdict[] = [];
  const cmp = comparisonRuns(runs);
  for (const m of cmp.filter((r) => r.server === 'meridian')) {
    const batched = effectiveIo(m.variant) === 'batched';
    if (m.comparison === 'throughput') {
      const goals = [['pdns', COMPARE_TARGETS.vsPdns], ['gdnsd', batched ? COMPARE_TARGETS.vsGdnsdBatched : COMPARE_TARGETS.vsGdnsd]] as const;
      for (const [other, goal] of goals) {
        const o = peerOf(cmp, m, other);
        const goalText = `Meridian ≥ ${goal}× ${other} q/s with 0 lost`;
        if (!ok(m) || !ok(o)) {
          out.push({ text: `${m.scenario}: ${goalText}: NOT JUDGED (a run failed or answered wrongly)`, met: false });
          continue;
        }
        const x = m.qps / o.qps;
        const met = x >= goal && m.lost === 0;
        out.push({
          text: `${m.scenario}: Meridian ${fmtInt(m.qps)} q/s (${fmtInt(m.lost)} lost) vs ${other} ${fmtInt(o.qps)} q/s (${fmtInt(o.lost)} lost) = ${x.toFixed(2)}× → ${goalText}: ${met ? 'MET' : 'MISSED'}`,
          met,
        });
      }
    } else {
      const goalText = `Meridian p99 ≤ ${COMPARE_TARGETS.p99Ms} ms at ${fmtInt(m.offeredQps ?? NaN)} offered q/s`;
      if (!ok(m) || m.latency.p99Ms === undefined) {
        out.push({ text: `${m.scenario}: ${goalText}: NOT JUDGED (the run failed or answered wrongly)`, met: false });
        continue;
      }
      const met = m.latency.p99Ms <= COMPARE_TARGETS.p99Ms && m.lost === 0;
      out.push({ text: `${m.scenario}: Meridian p99 ${m.latency.p99Ms.toFixed(3)} ms, ${fmtInt(m.lost)} lost → ${goalText}: ${met ? 'MET' : 'MISSED'}${perSecondText(m.latency.perSecondP99Ms)}`, met });
      out.push(...againstGdnsdAtFixedRate(m, peerOf(cmp, m, 'gdnsd'), sameNoise ?? null));
    }
  }
  return out;
}

/**
 * Issue 19's targets at a fixed rate: p99, p99.9 and CPU per query against gdnsd's in the same run.
 * The percentiles come from the tail phase when there is one (every server under the same noise);
 * else from the rows, which ran a minute apart. CPU per query always comes from the rows.
 */
function againstGdnsdAtFixedRate(m: RunResult, g: RunResult | undefined, sameNoise: SameNoise | null): ComparisonVerdict[] {
  const { p99VsGdnsd, p999OverGdnsdMs, cpuVsGdnsd } = COMPARE_TARGETS;
  const goals = [`p99 ≤ ${p99VsGdnsd}× gdnsd's`, `p99.9 ≤ gdnsd's + ${p999OverGdnsdMs} ms`, `CPU per query ≤ ${cpuVsGdnsd}× gdnsd's`];
  const verdict = (met: boolean): string => (met ? 'MET' : 'MISSED');
  const out: ComparisonVerdict[] = [];
  /** The two percentile verdicts; `how` says where the figures come from (empty: the rows). */
  const percentiles = (mine: { p99Ms: number; p999Ms: number }, theirs: { p99Ms: number; p999Ms: number }, how: string, p99Note = how): void => {
    const p99 = mine.p99Ms / theirs.p99Ms;
    const p999Met = mine.p999Ms <= theirs.p999Ms + p999OverGdnsdMs;
    out.push(
      { text: `${m.scenario}: p99 ${mine.p99Ms.toFixed(3)} vs gdnsd ${theirs.p99Ms.toFixed(3)} ms = ${p99.toFixed(2)}×${p99Note} → Meridian ${goals[0]}: ${verdict(p99 <= p99VsGdnsd)}`, met: p99 <= p99VsGdnsd },
      { text: `${m.scenario}: p99.9 ${mine.p999Ms.toFixed(3)} vs gdnsd ${theirs.p999Ms.toFixed(3)} ms${how} → Meridian ${goals[1]}: ${verdict(p999Met)}`, met: p999Met },
    );
  };
  const mine = sameNoise?.rows.find((r) => r.scenario === m.scenario);
  const gdnsdRow = sameNoise?.rows.find((r) => r.server === 'gdnsd');
  if (sameNoise && mine !== undefined && gdnsdRow !== undefined && mine.answers > 0 && gdnsdRow.answers > 0) {
    const rounds = roundsWithin(mine, gdnsdRow, p99VsGdnsd);
    const how = `same noise, ${sameNoise.rounds} × ${sameNoise.sliceS} s interleaved`;
    percentiles(mine, gdnsdRow, ` (${how})`, ` (${how}; within ${p99VsGdnsd}× gdnsd's slice of the same round in ${rounds.within} of ${rounds.rounds} rounds)`);
  }
  const mp = m.latency;
  const gp = g?.latency;
  if (!ok(g) || gp === undefined || mp.p99Ms === undefined || mp.p999Ms === undefined || gp.p99Ms === undefined || gp.p999Ms === undefined) {
    const missing = out.length === 0 ? goals : goals.slice(2);
    return [...out, ...missing.map((goal) => ({ text: `${m.scenario}: Meridian ${goal}: NOT JUDGED (no gdnsd row with percentiles)`, met: false }))];
  }
  if (out.length === 0) percentiles({ p99Ms: mp.p99Ms, p999Ms: mp.p999Ms }, { p99Ms: gp.p99Ms, p999Ms: gp.p999Ms }, '');
  const cpu = m.cpu.usPerQuery / g.cpu.usPerQuery;
  out.push({ text: `${m.scenario}: ${fmt(m.cpu.usPerQuery, 1)} vs gdnsd ${fmt(g.cpu.usPerQuery, 1)} µs CPU/query = ${cpu.toFixed(2)}× → Meridian ${goals[2]}: ${verdict(cpu <= cpuVsGdnsd)}`, met: cpu <= cpuVsGdnsd });
  return out;
}

/** The tail phase's rows, for the reader: each server's percentiles over its slices, and its slices' p99s. */
export function sameNoiseLines(sameNoise: SameNoise | null | undefined): string[] {
  if (!sameNoise) return [];
  const head = `Tail under the same noise: ${sameNoise.rows.length} servers up at once, ${sameNoise.rounds} rounds × ${sameNoise.sliceS} s each at ${fmtInt(sameNoise.qps)} q/s (the p99 verdicts above)`;
  return [
    head,
    ...sameNoise.rows.map((r) => {
      const slices = [...r.perSliceP99Ms].sort((a, b) => a - b);
      return `  ${r.label}: ${fmtInt(r.answers)} answers, p50 ${fmt(r.p50Ms, 3)} / p99 ${fmt(r.p99Ms, 3)} / p99.9 ${fmt(r.p999Ms, 3)} / max ${fmt(r.maxMs, 2)} ms; p99 of its slices: median ${fmt(slices[slices.length >> 1], 2)} (${fmt(slices[0], 2)}–${fmt(slices[slices.length - 1], 2)})`;
    }),
  ];
}

/** " (per-second p99: …)": how the run's seconds compare with the target, for the reader. */
function perSecondText(values: readonly number[] | undefined): string {
  if (values === undefined || values.length === 0) return '';
  const sorted = [...values].sort((a, b) => a - b);
  const within = values.filter((v) => v <= COMPARE_TARGETS.p99Ms).length;
  return ` (p99 of each second: median ${sorted[sorted.length >> 1]!.toFixed(3)}, worst ${sorted[sorted.length - 1]!.toFixed(3)} ms; ${within} of ${values.length} seconds ≤ ${COMPARE_TARGETS.p99Ms} ms)`;
}

export const COMPARISON_NOTES = [
  '- Same zone (the comparison subset of zones/example.test.yaml), same GeoIP2-Country file, same query file, same dnsperf settings; server and dnsperf not pinned (they share the 2 CPUs).',
  '- **configuration**: Meridian as it starts by default (`--io auto`: batched UDP I/O where the native module is built; `--workers` one per CPU) and health on, then one process, then `--io dgram`; PowerDNS 4.7 geoip backend with its default packet cache; gdnsd 3 plugin_geoip with http_status monitoring.',
  '- **probes**: HTTP health probes the benchmark\'s /healthz endpoint answered while that server ran. **PowerDNS\'s geoip backend has no health checks** (0 probes): it does less work than the other two and would keep answering a dead pool.',
  '- **µs CPU/q**: server CPU (all threads and processes) ÷ answered queries; **RSS**: summed over the server\'s processes after the run.',
  '- **÷ pdns / ÷ gdnsd**: Meridian q/s ÷ that server\'s q/s in the same scenario (for a `-w1` or `-dgram` row: against the main scenario\'s rows). **answers**: the preflight — every distinct query\'s rcode and, for www and static, the exact A records of the expected pool.',
].join('\n');

export function comparisonText(report: BenchReport): string {
  const cmp = comparisonRuns(report.runs);
  if (cmp.length === 0) return '';
  const rows = [C_HEADERS, ...cmp.map((r) => comparisonRow(report.runs, r))];
  const widths = C_HEADERS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const right = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  const line = (cells: string[]): string => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [
    'Comparison (Meridian / PowerDNS geoip backend / gdnsd)',
    '',
    line(C_HEADERS),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
    '',
    ...comparisonVerdicts(report.runs, report.sameNoise).map((v) => v.text),
    ...floorLines(report.runs),
    ...sameNoiseLines(report.sameNoise),
  ].join('\n');
}

export function comparisonMarkdown(report: BenchReport): string {
  const cmp = comparisonRuns(report.runs);
  if (cmp.length === 0) return '';
  const right = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  return [
    '## Comparison: Meridian, PowerDNS (geoip backend), gdnsd',
    '',
    ...(report.geoip ? [`GeoIP database (all three): ${report.geoip}.`] : []),
    ...(report.healthCheck ? [`Health checks (Meridian, gdnsd): ${report.healthCheck}.`] : []),
    '',
    `| ${C_HEADERS.join(' | ')} |`,
    `|${C_HEADERS.map((_, i) => (right.has(i) ? '---:' : '---')).join('|')}|`,
    ...cmp.map((r) => `| ${comparisonRow(report.runs, r).join(' | ')} |`),
    '',
    COMPARISON_NOTES,
    '',
    '### Targets',
    '',
    ...comparisonVerdicts(report.runs, report.sameNoise).map((v) => `- ${v.text}`),
    '',
    ...floorLines(report.runs).map((line) => `- ${line}`),
    '',
    ...sameNoiseLines(report.sameNoise).map((line, i) => (i === 0 ? line : `- ${line.trim()}`)),
    '',
  ].join('\n');
}

export function verdictLine(r: RunResult): string {
  if (r.target === null) return '';
  const goal = `≥ ${fmtInt(r.target.minQps)} q/s with ≤ ${r.target.maxLost} lost`;
  if (r.error !== null) return `${r.scenario} (${r.server}): target ${goal}: NOT MET (run failed: ${r.error.split('\n')[0]})`;
  return `${r.scenario} (${r.server}): ${fmtInt(r.qps)} q/s, ${fmtInt(r.lost)} lost → target ${goal}: ${targetVerdict(r)}`;
}
