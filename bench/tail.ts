/**
 * Finds what sets the latency tail: `npx tsx bench/tail.ts [--seconds 20] [--qps 20000]
 * [--scrape-every 5] [--no-health] [--semi-space 8] [--io dgram|batched]`. Serves the comparison zone (bench/lib/
 * compare-zone.ts) from one Meridian process (bench/lib/tail-server.ts) with health checks against
 * the benchmark's loopback HTTP endpoint, drives it with dnsperf at a fixed rate with the comparison
 * mix, scrapes /metrics as Prometheus would, and prints per second the p99 beside what the server's
 * event loop did in that second: GC pauses, event-loop delay, probes finished, metric scrapes
 * (with how long each took). A summary compares the p99 of seconds with and without each event.
 * Results also go to bench/results/tail-<time>.json. Do not run it beside another benchmark.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadComparisonZone, memberAddresses, meridianZoneYaml } from './lib/compare-zone.js';
import { runDnsperf } from './lib/dnsperf.js';
import { startHealthEndpoint } from './lib/health-http.js';
import { benchQuery, findFreePort, waitUntilAnswering } from './lib/net.js';
import { comparisonQueries, writeDataFile } from './lib/scenarios.js';
import type { TailSecond } from './lib/tail-server.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const seconds = option('seconds', 20);
const qps = option('qps', 20_000);
const scrapeEvery = option('scrape-every', 5);
const semiSpace = option('semi-space', 8);
const health = !args.includes('--no-health');
const io = args.includes('--io') ? (args[args.indexOf('--io') + 1] as 'dgram' | 'batched') : 'dgram';

interface Scrape {
  t: number;
  ms: number;
}

const work = mkdtempSync(path.join(os.tmpdir(), 'meridian-tail-'));
const zone = loadComparisonZone(path.join(repo, 'zones', 'example.test.yaml'));
const endpoint = await startHealthEndpoint(memberAddresses(zone));
const zonesDir = path.join(work, 'zones');
mkdirSync(zonesDir);
const check = { port: endpoint.port, path: '/healthz', intervalS: 2, timeoutS: 1, rise: 2, fall: 3 };
let yaml = meridianZoneYaml(zone, check);
if (!health) yaml = yaml.replace(/^ {4}check: web\n/gm, '');
writeFileSync(path.join(zonesDir, `${zone.zone}.yaml`), yaml);
const port = await findFreePort('127.0.0.1');
const data = writeDataFile(
  { id: 'tail', title: 'tail', queries: comparisonQueries(), durationS: seconds, clients: 4, maxOutstanding: 100, offeredQps: qps, variant: { health, workers: 1 }, notes: '' },
  path.join(work, 'queries.bin'),
);

const server = spawn(process.execPath, [`--max-semi-space-size=${semiSpace}`, '--import', 'tsx', path.join(repo, 'bench/lib/tail-server.ts'), JSON.stringify({ zones: zonesDir, port, io })], {
  cwd: repo,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serverSeconds: TailSecond[] = [];
let admin: { host: string; port: number } | null = null;
const ready = new Promise<void>((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
  createInterface({ input: server.stdout }).on('line', (line) => {
    const record = JSON.parse(line) as TailSecond | { ready: true; admin: { host: string; port: number } };
    if ('ready' in record) {
      admin = record.admin;
      resolve();
    } else serverSeconds.push(record);
  });
});

const scrapes: Scrape[] = [];
let scraping: NodeJS.Timeout | undefined;
try {
  await ready;
  await waitUntilAnswering('127.0.0.1', port, benchQuery(`static.${zone.zone}`, 'A'), 10_000, () => server.exitCode === null);
  const base = {
    host: '127.0.0.1', port, dataFile: data.path, binary: data.binary, clients: 4, threads: 1, maxOutstanding: 100,
    offeredQps: qps, ednsOptions: [], timeoutS: 2, cpus: null,
  };
  await runDnsperf({ ...base, durationS: 2, perQuery: false, outFile: path.join(work, 'warm.txt'), errFile: path.join(work, 'warm.err') });
  if (scrapeEvery > 0) {
    const url = `http://${admin!.host}:${admin!.port}/metrics`;
    scraping = setInterval(() => {
      const start = performance.now();
      void fetch(url).then((response) => response.text()).then(() => scrapes.push({ t: Date.now(), ms: performance.now() - start }));
    }, scrapeEvery * 1000);
  }
  const t0 = Date.now();
  const perf = await runDnsperf({ ...base, durationS: seconds, perQuery: true, outFile: path.join(work, 'run.txt'), errFile: path.join(work, 'run.err') });
  clearInterval(scraping);
  const perSecond = perf.latency.perSecondP99Ms ?? [];
  // dnsperf's second i covers about [t0 + i s, t0 + (i + 1) s); a server line covers the second before its t.
  const rows = perSecond.map((p99, i) => {
    const from = t0 + i * 1000;
    const mid = from + 500;
    const line = serverSeconds.reduce<TailSecond | null>((best, s) => (Math.abs(s.t - 500 - mid) < Math.abs((best?.t ?? Infinity) - 500 - mid) ? s : best), null);
    const inSecond = scrapes.filter((s) => s.t - s.ms >= from - 250 && s.t - s.ms < from + 1000);
    return { second: i + 1, p99, server: line, scrapes: inSecond };
  });
  console.log(`${seconds} s at ${qps} q/s offered: ${perf.qps.toFixed(0)} q/s, lost ${perf.lost}, p50 ${perf.latency.p50Ms?.toFixed(3)} p99 ${perf.latency.p99Ms?.toFixed(3)} p99.9 ${perf.latency.p999Ms?.toFixed(3)} max ${perf.latency.maxMs.toFixed(3)} ms; health ${health ? 'on' : 'off'}, semi-space ${semiSpace} MB, --io ${io}`);
  console.log('| s | p99 ms | answers | GCs (minor) | GC total / max ms | loop delay p99 / max ms | probes | scrapes (ms) |');
  console.log('|---:|---:|---:|---|---|---|---:|---|');
  for (const row of rows) {
    const s = row.server;
    console.log(
      `| ${row.second} | ${row.p99.toFixed(3)} | ${s?.answers ?? ''} | ${s ? `${s.gcCount} (${s.gcMinor})` : ''} | ${s ? `${s.gcTotalMs.toFixed(2)} / ${s.gcMaxMs.toFixed(2)}` : ''} | ${s ? `${s.loopDelayP99Ms.toFixed(2)} / ${s.loopDelayMaxMs.toFixed(2)}` : ''} | ${s?.probes ?? ''} | ${row.scrapes.map((x) => x.ms.toFixed(1)).join(', ')} |`,
    );
  }
  const median = (values: number[]): number => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
  };
  const split = (label: string, has: (row: (typeof rows)[number]) => boolean): void => {
    const yes = rows.filter(has).map((r) => r.p99);
    const no = rows.filter((r) => !has(r)).map((r) => r.p99);
    console.log(`- ${label}: ${yes.length} s, median p99 ${median(yes).toFixed(3)} ms; without: ${no.length} s, ${median(no).toFixed(3)} ms`);
  };
  console.log('\nMedian of the per-second p99, seconds with and without each event:');
  split('a GC pause ≥ 1 ms', (r) => (r.server?.gcMaxMs ?? 0) >= 1);
  split('any GC', (r) => (r.server?.gcCount ?? 0) > 0);
  split('event-loop delay max ≥ 2 ms', (r) => (r.server?.loopDelayMaxMs ?? 0) >= 2);
  split('probes finished', (r) => (r.server?.probes ?? 0) > 0);
  split('a metrics scrape', (r) => r.scrapes.length > 0);
  const resultsDir = path.join(repo, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `tail-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ seconds, qps, health, semiSpace, scrapeEvery, io, dnsperf: perf, rows, serverSeconds, scrapes }, null, 2));
  console.log(`\n${file}`);
} finally {
  clearInterval(scraping);
  server.kill('SIGTERM');
  await endpoint.close();
  rmSync(work, { recursive: true, force: true });
}
