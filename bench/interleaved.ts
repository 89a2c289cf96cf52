/**
 * Tail under the same noise: `npx tsx bench/interleaved.ts [--rounds 20] [--slice 1] [--qps 20000]
 * [--node-floor] [--meridian IO:PROCESSES[:health|no-health[:SEMI_SPACE_MB[:CHECKOUT[:NODE_FLAGS]]]],…]`
 * (CHECKOUT empty: this one; NODE_FLAGS: more node flags joined by `+`, e.g. `--single-threaded-gc`).
 * Starts gdnsd, the floor (bench/lib/floor-responder.c: a C echo, no DNS work), with --node-floor
 * Node's floor (bench/lib/node-floor-responder.mjs: the same echo from Node through the batched
 * module) and Meridian (default `batched:1,dgram:2`; CHECKOUT: another checkout's dist/, to compare
 * two builds), all serving the comparison zone with health checks (Meridian, gdnsd) at the same time, then drives them in turn with dnsperf at a fixed rate, one
 * short slice each per round, so every server meets the VM's bursts of noise alike (on a shared VM a
 * responder doing nothing has seconds with a p99 of 5 ms between seconds of 0.2 ms; rows measured a
 * minute apart compare bursts, not servers). Percentiles over each server's slices together.
 * Run `npm run build` first (Meridian runs from dist/).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { embeddedGeoDatabasePath } from '../src/geo/index.js';
import { loadComparisonZone, memberAddresses, meridianZoneYaml, type HealthCheck } from './lib/compare-zone.js';
import { geoip2CountryDatabase } from './lib/geoip2-country.js';
import { driveInterleaved, percentileOf } from './lib/interleave.js';
import { startHealthEndpoint } from './lib/health-http.js';
import { findFreePort } from './lib/net.js';
import { killAllSync } from './lib/processes.js';
import { comparisonQueries, writeDataFile } from './lib/scenarios.js';
import { floor, gdnsd, meridian, type RunningServer, type ServerUnderTest, type ServerVariant } from './lib/servers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '20' }, slice: { type: 'string', default: '1' }, qps: { type: 'string', default: '20000' }, meridian: { type: 'string', default: 'batched:1,dgram:2' }, 'node-floor': { type: 'boolean', default: false } },
});
const rounds = Number(values.rounds);
const sliceS = Number(values.slice);
const qps = Number(values.qps);

const work = mkdtempSync(path.join(os.tmpdir(), 'meridian-interleaved-'));
process.on('exit', () => {
  killAllSync();
  rmSync(work, { recursive: true, force: true });
});
const zonesDir = path.join(work, 'zones');
mkdirSync(zonesDir);
const zone = loadComparisonZone(path.join(REPO, 'zones', 'example.test.yaml'));
const db = geoip2CountryDatabase(embeddedGeoDatabasePath(), path.join(REPO, 'bench', 'results', 'cache'));
const health = await startHealthEndpoint(memberAddresses(zone), '/healthz');
const check: HealthCheck = { path: '/healthz', intervalS: 2, timeoutS: 1, rise: 2, fall: 3, port: health.port };
const meridianZonesDir = path.join(work, 'compare-zones');
mkdirSync(meridianZonesDir);
writeFileSync(path.join(meridianZonesDir, 'example.test.yaml'), meridianZoneYaml(zone, check));
const comparison = { zone, geoipFile: db.file, check, meridianZonesDir };
const data = writeDataFile(
  { id: 'interleaved', title: '', queries: comparisonQueries(), durationS: sliceS, clients: 4, maxOutstanding: 100, offeredQps: qps, variant: { health: true, workers: 1 }, notes: '' },
  path.join(work, 'queries.bin'),
);

interface Contender {
  label: string;
  sut: ServerUnderTest;
  variant: ServerVariant;
  server?: RunningServer;
  /** Meridian's --max-semi-space-size (MB) */
  semiSpace?: string;
  /** more node flags for Meridian (`+`-separated in the spec), e.g. --single-threaded-gc */
  extraFlags?: string[];
  /** the checkout whose dist/ it runs (another one: to compare two builds under the same noise) */
  repo?: string;
}
/** `--meridian batched:1,dgram:2,batched:1:no-health`: the Meridian configurations (I/O, processes, health). */
const meridians: Contender[] = values.meridian!.split(',').map((spec) => {
  const [io = 'dgram', workers = '1', healthText = 'health', semiSpace = '8', repoText = '', flagsText = ''] = spec.split(':');
  const repo = repoText === '' ? REPO : repoText;
  const extraFlags = flagsText.split('+').filter(Boolean);
  if ((io !== 'dgram' && io !== 'batched') || !/^\d+$/.test(workers) || (healthText !== 'health' && healthText !== 'no-health')) throw new Error(`--meridian: bad entry ${spec}`);
  const healthOn = healthText === 'health';
  return { label: `Meridian --io ${io} --workers ${workers}${healthOn ? '' : ' --no-health'}, ${semiSpace} MB semi-space${extraFlags.length > 0 ? `, ${extraFlags.join(' ')}` : ''}${repo === REPO ? '' : `, from ${repo}`}`, sut: meridian, variant: { health: healthOn, workers: Number(workers), io }, semiSpace, repo, extraFlags };
});
/**
 * Node's own floor: node-floor-responder.mjs answers each query with itself from a Node process, through
 * the native batched module (`batched`) or dgram, doing no DNS work: what the runtime adds to the C floor.
 */
const nodeFloor = (mode: 'batched' | 'dgram'): ServerUnderTest => ({
  id: `node-floor-${mode}`,
  label: `Node floor (${mode})`,
  contractZone: false,
  answersChecked: false,
  unavailable: () => null,
  describe: () => 'bench/lib/node-floor-responder.mjs',
  async start(options) {
    const child = spawn(process.execPath, [path.join(REPO, 'bench/lib/node-floor-responder.mjs'), JSON.stringify({ mode, port: options.port, repo: REPO })], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
      child.stdout.once('data', resolve);
      child.once('exit', (code) => reject(new Error(`Node's floor exited (${code}) before it was ready`)));
    });
    return { pid: child.pid!, host: options.host, port: options.port, commandLine: 'node bench/lib/node-floor-responder.mjs', config: mode, isRunning: () => child.exitCode === null, stop: async () => { child.kill(); return { forced: false, code: null, signal: 'SIGTERM' }; } };
  },
});
const contenders: Contender[] = [
  { label: 'gdnsd', sut: gdnsd, variant: { health: true, workers: 1 } },
  { label: 'floor (C echo)', sut: floor, variant: { health: false, workers: 1 } },
  ...(values['node-floor'] ? [{ label: 'Node floor (batched echo)', sut: nodeFloor('batched'), variant: { health: false, workers: 1 } }] : []),
  ...meridians,
];
for (const [i, c] of contenders.entries()) {
  const dir = path.join(work, `server-${i}`);
  mkdirSync(dir);
  if (c.semiSpace !== undefined) process.env.BENCH_MERIDIAN_NODE_FLAGS = [`--max-semi-space-size=${c.semiSpace}`, '--expose-gc', ...(c.extraFlags ?? [])].join(' ');
  c.server = await c.sut.start({ host: '127.0.0.1', port: await findFreePort('127.0.0.1'), zonesDir, variant: c.variant, cpus: null, workDir: dir, logFile: path.join(dir, 'log'), comparison }, c.repo ?? REPO);
}

const rows = driveInterleaved(contenders.map((c) => ({ label: c.label, port: c.server!.port })), { rounds, sliceS, qps, data, workDir: work });
console.log(`${rounds} rounds × ${sliceS} s per server at ${qps} q/s, all servers up throughout, dnsperf -c 4 -q 100, unpinned`);
console.log('| server | answers | p50 ms | p99 ms | p99.9 ms | max ms | p99 of its slices: median (min–max) |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const slices = [...r.perSliceP99Ms].sort((a, b) => a - b);
  console.log(`| ${r.label} | ${r.answers} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.p999Ms.toFixed(3)} | ${r.maxMs.toFixed(2)} | ${percentileOf(slices, 0.5).toFixed(2)} (${slices[0]!.toFixed(2)}–${slices.at(-1)!.toFixed(2)}) |`);
}
const file = path.join(REPO, 'bench', 'results', `interleaved-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify({ rounds, sliceS, qps, servers: rows.map((r) => ({ label: r.label, answers: r.answers, perSliceP99: r.perSliceP99Ms })) }, null, 2));
console.log(file);
for (const c of contenders) await c.server!.stop();
await health.close();
