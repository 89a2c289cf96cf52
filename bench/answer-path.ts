/**
 * In-process cost of one answer (decode → zone lookup → policy → encode), without sockets:
 * `npx tsx bench/answer-path.ts [ITERATIONS] [--sites]`. Complements `npm run bench`: dnsperf
 * figures on a shared 2-core VM swing by ±15 %, while this measures Meridian's own share of a
 * query: ns per answer, bytes allocated per answer (V8's sampling heap profiler, every object
 * counted, collected or not: the deterministic figure to drive by) and minor GCs per 100,000
 * answers. `--sites` also lists where each case allocates. A last row sends static A queries from
 * dnsperf through a real UDP socket, for what dgram itself allocates per datagram.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPacketHandler, newQueryCounters } from '../src/server/handle-packet.js';
import { DEFAULT_RATE_LIMIT, ResponseRateLimiter } from '../src/rate-limit/index.js';
import { embeddedGeoDatabasePath, isKnownCountryCode, openGeoLocator } from '../src/geo/index.js';
import { probeKeyOf } from '../src/health/index.js';
import { servingState } from '../src/authority/index.js';
import { mathRandom } from '../src/routing/index.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { compileZones, readZonePath, SerialKeeper, ZoneCatalog } from '../src/zones/index.js';
import { listenUdp, newListenerCounters, RESPONSE_BUFFER_BYTES } from '../src/wire/index.js';
import { bytesAllocatedPer, bytesAllocatedPerCall } from './lib/allocation-profile.js';
import { benchQuery } from './lib/net.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const showSites = args.includes('--sites');
const iterations = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 300_000);
/** Answers under the heap profiler per case: its 64-byte sampling makes each one slow. */
const profiledAnswers = 20_000;

/** A zone of its own for what the sample zones do not have: a `network` geo rule. */
const NETWORK_RULE_ZONE = [
  'zone: bench.test',
  'ttl: 30',
  'soa: { mname: ns1.bench.test, rname: hostmaster.bench.test }',
  'records:',
  '  "@": { NS: [ns1.bench.test] }',
  '  ns1: { A: 192.0.2.53 }',
  '  net:',
  '    geo:',
  '      network: { "198.51.100.0/24": [office] }',
  '      default: [elsewhere]',
  'pools:',
  '  office: { members: [192.0.2.10] }',
  '  elsewhere: { members: [192.0.2.20] }',
  '',
].join('\n');
const extraZones = path.join(mkdtempSync(path.join(os.tmpdir(), 'answer-path-zones-')), 'zones');
mkdirSync(extraZones);
writeFileSync(path.join(extraZones, 'bench.test.yaml'), NETWORK_RULE_ZONE);
const loads = [
  ...(await readZonePath(path.join(repo, 'zones'), { isKnownCountry: isKnownCountryCode })),
  ...(await readZonePath(extraZones, { isKnownCountry: isKnownCountryCode })),
];
const catalog = new ZoneCatalog(compileZones(loads.flatMap((l) => (l.ok ? [l.source] : [])), new SerialKeeper(), probeKeyOf));
const geo = await openGeoLocator([embeddedGeoDatabasePath()], { logger: silentLogger(), watch: false });
const health = { version: 1, status: () => 'up' as const };
const serving = servingState(catalog, { health, geo, random: mathRandom });
const handler = createPacketHandler(() => serving, { nsid: null }, newQueryCounters());
// --rrl on, every answer under the limit (the clock never advances here: a rate no run exhausts).
const limiter = new ResponseRateLimiter({ ...DEFAULT_RATE_LIMIT, rate: 1_000_000_000 });
const limitedHandler = createPacketHandler(() => serving, { nsid: null }, newQueryCounters(), null, () => undefined, limiter);

const cases: [string, Buffer, typeof handler?][] = [
  ['static A', benchQuery('static.example.test', 'A', { id: 1 })],
  ['static A, --rrl on', benchQuery('static.example.test', 'A', { id: 1 }), limitedHandler],
  ['static A +EDNS', benchQuery('static.example.test', 'A', { id: 1, edns: true })],
  ['NXDOMAIN', benchQuery('nope.example.test', 'A', { id: 1 })],
  ['NXDOMAIN, --rrl on', benchQuery('nope.example.test', 'A', { id: 1 }), limitedHandler],
  ['www A, no ECS', benchQuery('www.example.test', 'A', { id: 1, edns: true })],
  ['www A, ECS GB /24', benchQuery('www.example.test', 'A', { id: 1, ecs: '81.2.69.0/24' })],
  ['www A, ECS rotating /24s', Buffer.alloc(0)],
  ['www AAAA, ECS GB6 /48', benchQuery('www.example.test', 'AAAA', { id: 1, ecs: '2a02:8010:1::/48' })],
  ['app A, weighted pool (2 of 3 by weight)', benchQuery('app.example.test', 'A', { id: 1 })],
  ['net A, network rule, ECS 198.51.100.0/24', benchQuery('net.bench.test', 'A', { id: 1, ecs: '198.51.100.0/24' })],
  ['www.kids.shop.test A, delegation (referral)', benchQuery('www.kids.shop.test', 'A', { id: 1 })],
  ['alias A, in-zone CNAME chain', benchQuery('alias.example.test', 'A', { id: 1 })],
  ['x.cdn.shop.test A, wildcard CNAME chased', benchQuery('x.cdn.shop.test', 'A', { id: 1 })],
  ['www.steering.test A, pool of names (CNAME out of zone)', benchQuery('www.steering.test', 'A', { id: 1 })],
];
// 256 different /24s across the world: the realistic resolver mix, where a cache keyed by one
// subnet would not help.
const rotating = Array.from({ length: 256 }, (_, i) => benchQuery('www.example.test', 'A', { id: 1, ecs: `${(i * 37) % 223 + 1}.${(i * 91) % 256}.${i}.0/24` }));

let minorGcs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGcs++;
}).observe({ entryTypes: ['gc'] });

const peer = '127.0.0.1';
/** The output buffer a socket would hand the handler. */
const out = Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
console.log(`| case | ns/answer | B allocated/answer | minor GCs per 100k |`);
console.log(`|---|---:|---:|---:|`);
const siteLists: string[] = [];
for (const [label, packet, handle = handler] of cases) {
  const run = (n: number): void => {
    if (packet.length === 0) for (let i = 0; i < n; i++) handle(rotating[i & 255]!, 'udp', peer, out);
    else for (let i = 0; i < n; i++) handle(packet, 'udp', peer, out);
  };
  run(20_000); // warm up the JIT
  await new Promise((r) => setImmediate(r));
  minorGcs = 0;
  const start = process.hrtime.bigint();
  run(iterations);
  const ns = Number(process.hrtime.bigint() - start) / iterations;
  await new Promise((r) => setTimeout(r, 10)); // let the GC observer report
  const gcs = ((minorGcs * 100_000) / iterations).toFixed(1);
  const allocated = await bytesAllocatedPerCall(run, profiledAnswers);
  console.log(`| ${label} | ${ns.toFixed(0)} | ${allocated.bytesPerCall.toFixed(0)} | ${gcs} |`);
  if (showSites) siteLists.push(`${label}:\n${allocated.sites.filter((s) => s.bytesPerCall >= 1).map((s) => `  ${s.bytesPerCall.toFixed(0).padStart(5)} B  ${s.site}`).join('\n')}`);
}
// The same answers through a real socket: what dgram allocates per datagram (the received Buffer,
// the sender's address, the send request) comes on top of the answer path's own.
{
  const listener = newListenerCounters();
  const socket = await listenUdp('127.0.0.1', 0, handler, listener);
  const dataFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'answer-path-')), 'static.txt');
  writeFileSync(dataFile, 'static.example.test A\n');
  const dnsperf = (seconds: number): Promise<void> =>
    new Promise((resolve, reject) =>
      execFile('dnsperf', ['-s', '127.0.0.1', '-p', String(socket.address().port), '-d', dataFile, '-Q', '20000', '-l', String(seconds), '-c', '1'], (error) => (error ? reject(error) : resolve())),
    );
  try {
    await dnsperf(1); // warm up
    const allocated = await bytesAllocatedPer(async () => {
      const before = listener.udpReceived;
      await dnsperf(3);
      return listener.udpReceived - before;
    });
    console.log(`| static A over a UDP socket (dgram, 20,000 q/s from dnsperf) | – | ${allocated.bytesPerCall.toFixed(0)} | – |`);
    if (showSites) siteLists.push(`static A over a UDP socket:\n${allocated.sites.filter((s) => s.bytesPerCall >= 1).map((s) => `  ${s.bytesPerCall.toFixed(0).padStart(5)} B  ${s.site}`).join('\n')}`);
  } catch (error) {
    console.log(`| static A over a UDP socket | (not measured: ${(error as Error).message.split('\n')[0]}) | | |`);
  }
  socket.close();
}
if (showSites) console.log(`\n${siteLists.join('\n')}`);
await geo.close();
