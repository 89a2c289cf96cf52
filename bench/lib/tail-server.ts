/**
 * The server side of `bench/tail.ts`: a Meridian started in this process (`startMeridian`, as
 * `serve --workers 1` runs it) that writes one JSON line a second to stdout with what happened on
 * its event loop in that second: answers, GC pauses (perf_hooks 'gc' entries), event-loop delay
 * (monitorEventLoopDelay, 1 ms resolution), probes finished. The first line says where it listens.
 * Argument: a JSON object { zones, port, io }.
 */
import { monitorEventLoopDelay, PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { startMeridian } from '../../src/server/index.js';
import { createLogger } from '../../src/telemetry/index.js';

export interface TailSecond {
  /** Date.now() at the end of the second this line covers. */
  t: number;
  answers: number;
  gcCount: number;
  /** Scavenges among them. */
  gcMinor: number;
  gcTotalMs: number;
  gcMaxMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  probes: number;
}

const { zones, port, io } = JSON.parse(process.argv[2] ?? '{}') as { zones: string; port: number; io: 'dgram' | 'batched' };
const server = await startMeridian({
  zonesPath: zones,
  listen: [{ host: '127.0.0.1', port }],
  admin: { host: '127.0.0.1', port: 0 },
  logger: createLogger('warn', 'json', 2),
  watchZones: false,
  io,
});

let gcCount = 0;
let gcMinor = 0;
let gcTotalMs = 0;
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    gcCount++;
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcMinor++;
    gcTotalMs += entry.duration;
    if (entry.duration > gcMaxMs) gcMaxMs = entry.duration;
  }
}).observe({ entryTypes: ['gc'] });
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

function probesFinished(): number {
  let total = 0;
  for (const counts of Object.values(server.health.counters.probes)) total += counts.ok + counts.fail + counts.timeout;
  return total;
}

let answers = server.counters.listener.udpReceived;
let probes = probesFinished();
process.stdout.write(`${JSON.stringify({ ready: true, admin: server.adminAddress })}\n`);
setInterval(() => {
  const nowAnswers = server.counters.listener.udpReceived;
  const nowProbes = probesFinished();
  const second: TailSecond = {
    t: Date.now(),
    answers: nowAnswers - answers,
    gcCount,
    gcMinor,
    gcTotalMs,
    gcMaxMs,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    loopDelayMaxMs: loop.max / 1e6,
    probes: nowProbes - probes,
  };
  answers = nowAnswers;
  probes = nowProbes;
  gcCount = gcMinor = gcTotalMs = gcMaxMs = 0;
  loop.reset();
  process.stdout.write(`${JSON.stringify(second)}\n`);
}, 1000);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
