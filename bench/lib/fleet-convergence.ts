/**
 * The fleet scenario (`npm run bench -- --fleet`): how long after the deciding view is published
 * every instance of a fleet answers alike (issue 15: within 1 s).
 *
 * A real nats-server with JetStream and three `meridian serve --fleet` processes on loopback, each
 * probing one local HTTP target from its own source address (127.0.0.41, .42, .43), quorum majority.
 * The target answers 503 to the first source throughout, and to the second one every other flip, so
 * that the second instance's view decides: down for two sources of three moves the name to its
 * backup everywhere, up again moves it back. For each flip the driver watches the views bucket for
 * the deciding view (its `at`: the wall-clock ms its instance published it) and queries the three
 * instances over UDP every few milliseconds (src/wire's encoder); the figure is the time from that
 * publication to the moment the last of the three answered the new way.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { KvWatchEntry } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { openExistingBuckets, type ViewValue } from '../../src/fleet/fleet-store.js';
import { failoverZone, sourceTarget } from '../../test/support/fleet-instances.js';
import { natsServerBinary } from '../../test/support/nats-server.js';
import { answerAddresses, benchQuery, findFreePort, udpExchange } from './net.js';
import { startProcess, stopProcess, tailOfFile, type StartedProcess } from './processes.js';

const HOST = '127.0.0.1';
const MAIN = '127.0.79.1';
const BACKUP = '192.0.2.97';
const NAME = 'www.fleet-bench.test';
const SOURCES = ['127.0.0.41', '127.0.0.42', '127.0.0.43'] as const;
/** Between two rounds of queries to the three instances: the resolution of the measurement. */
const POLL_GAP_MS = 2;
const FLIP_TIMEOUT_MS = 15_000;

export interface FleetFlip {
  readonly flip: number;
  /** What the deciding view said: the name's member withdrawn (down) or back (up). */
  readonly direction: 'down' | 'up';
  /** The deciding view's publication, wall-clock ISO time (its instance's clock; same machine). */
  readonly publishedAt: string;
  /** From publication to the driver's watch receiving it. */
  readonly viewSeenMs: number;
  /** From publication to each instance's first answer the new way (negative: before, the publisher itself). */
  readonly perInstanceMs: readonly number[];
  /** From publication to every instance answering alike: the figure. */
  readonly convergedMs: number;
  /** Views of the other instances that changed during the flip (a probe that timed out): the flip is then not clean. */
  readonly strayViews: number;
}

export interface FleetConvergenceResult {
  readonly instances: number;
  readonly flipsAsked: number;
  readonly meridian: string;
  readonly natsServer: string;
  readonly check: string;
  readonly flips: readonly FleetFlip[];
  /** Over convergedMs of every flip. */
  readonly summary: { minMs: number; medianMs: number; p95Ms: number; maxMs: number; withinOneSecond: number };
  readonly error: string | null;
}

export interface FleetConvergenceOptions {
  readonly repoRoot: string;
  readonly workDir: string;
  readonly flips: number;
  readonly log?: (line: string) => void;
}

/** The meridian command: the build when there is one (npm run bench builds it), else the sources through tsx. */
function meridianCommand(repoRoot: string): { args: string[]; label: string } {
  const built = path.join(repoRoot, 'dist/cli/main.js');
  if (existsSync(built)) return { args: [built], label: 'node dist/cli/main.js' };
  return { args: ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts')], label: 'node --import tsx src/cli/main.ts (no build)' };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, stepMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Wall-clock ms with sub-millisecond resolution, comparable with Date.now() in another process. */
const wallNow = (): number => performance.timeOrigin + performance.now();

export async function runFleetConvergence(options: FleetConvergenceOptions): Promise<FleetConvergenceResult> {
  const log = options.log ?? (() => undefined);
  const { workDir } = options;
  mkdirSync(workDir, { recursive: true });
  const started: StartedProcess[] = [];
  const flips: FleetFlip[] = [];
  const meridian = meridianCommand(options.repoRoot);
  const check = 'http, interval 1 s, timeout 500 ms, rise 1, fall 1, quorum majority';
  let natsVersion = natsServerBinary();
  let error: string | null = null;
  const target = await sourceTarget(MAIN);
  let nats: Awaited<ReturnType<typeof connect>> | null = null;
  try {
    // The engine.
    const natsPort = await findFreePort(HOST);
    const natsLog = path.join(workDir, 'nats-server.log');
    const engine = startProcess({ command: natsServerBinary(), args: ['-a', HOST, '-p', String(natsPort), '-js', '-sd', path.join(workDir, 'nats-store')], cpus: null, logFile: natsLog, label: 'nats-server' });
    started.push(engine);
    await until('nats-server to be ready', () => (readFileSync(natsLog, 'utf8').includes('Server is ready') ? true : undefined), 10_000);
    natsVersion = /Version:\s+(\S+)/.exec(readFileSync(natsLog, 'utf8'))?.[1] ?? 'nats-server';
    const fleetUrl = `nats://${HOST}:${natsPort}`;

    // Three instances, one probe source each.
    const zones = path.join(workDir, 'zones');
    mkdirSync(zones, { recursive: true });
    writeFileSync(path.join(zones, 'fleet-bench.test.yaml'), failoverZone('fleet-bench.test', target, BACKUP, 'timeout: 500ms, quorum: majority'));
    target.failFor(SOURCES[0]);
    const instances: { name: string; port: number; admin: string; process: StartedProcess; logFile: string }[] = [];
    for (const [index, source] of SOURCES.entries()) {
      const name = `f${index + 1}`;
      const port = await findFreePort(HOST);
      const adminPort = await findFreePort(HOST);
      const logFile = path.join(workDir, `${name}.log`);
      const args = [
        ...meridian.args, 'serve', '--zones', zones, '--listen', `${HOST}:${port}`, '--admin', `${HOST}:${adminPort}`, '--no-geo', '--workers', '1',
        '--fleet', fleetUrl, '--instance', name, '--probe-source', source, '--state-file', path.join(workDir, `${name}.state.json`), '--log-level', 'warn',
      ];
      const child = startProcess({ command: process.execPath, args, cpus: null, logFile, label: name });
      started.push(child);
      instances.push({ name, port, admin: `${HOST}:${adminPort}`, process: child, logFile });
    }
    for (const instance of instances) {
      await until(`${instance.name} to answer`, async () => {
        if (!instance.process.isRunning()) throw new Error(`${instance.name} exited: ${tailOfFile(instance.logFile)}`);
        const response = await fetch(`http://${instance.admin}/readyz`);
        return response.ok ? true : undefined;
      }, 60_000, 100);
    }
    await until('every instance to decide with the fleet (three fresh views each)', async () => {
      for (const instance of instances) {
        const status = (await (await fetch(`http://${instance.admin}/status`)).json()) as { fleet: { alone: string | null; targets: { views: { fresh: boolean }[] }[] } };
        if (status.fleet.alone !== null || status.fleet.targets[0]?.views.filter((view) => view.fresh).length !== 3) return undefined;
      }
      return true;
    }, 30_000, 100);
    log(`fleet: nats-server ${natsVersion} + ${instances.length} instances (${meridian.label}) deciding together; ${options.flips} flips`);

    // The views as they are published.
    nats = await connect({ servers: [fleetUrl], name: 'meridian bench fleet' });
    const buckets = await openExistingBuckets(nats);
    const views: { value: ViewValue; seenAt: number }[] = [];
    const watch = await buckets.views.watch({ key: 'view.>' });
    void (async () => {
      for await (const entry of watch as AsyncIterable<KvWatchEntry>) {
        if (entry.operation !== 'PUT') continue;
        views.push({ value: entry.json<ViewValue>(), seenAt: wallNow() });
      }
    })();

    const answerOf = async (port: number, id: number): Promise<string> => {
      const { bytes } = await udpExchange(HOST, port, benchQuery(NAME, 'A', { id }), 1000);
      return answerAddresses(bytes).sort().join(',');
    };
    const deciding = instances[1]!.name;
    for (let flip = 1; flip <= options.flips; flip++) {
      const direction = flip % 2 === 1 ? 'down' : 'up';
      const expected = direction === 'down' ? BACKUP : MAIN;
      const flippedAt = wallNow();
      const firstSeen: (number | null)[] = instances.map(() => null);
      target.failFor(...(direction === 'down' ? [SOURCES[0], SOURCES[1]] : [SOURCES[0]]));
      let id = flip * 1000;
      const deadline = performance.now() + FLIP_TIMEOUT_MS;
      while (firstSeen.some((seen) => seen === null)) {
        if (performance.now() > deadline) throw new Error(`flip ${flip}: not every instance answered ${expected} within ${FLIP_TIMEOUT_MS} ms`);
        await Promise.all(instances.map(async (instance, index) => {
          if (firstSeen[index] !== null) return;
          const answer = await answerOf(instance.port, id++ & 0xffff).catch(() => '');
          if (answer === expected) firstSeen[index] = wallNow();
        }));
        await new Promise((resolve) => setTimeout(resolve, POLL_GAP_MS));
      }
      const decidingView = await until(`flip ${flip}: the deciding view in the watch`, () =>
        views.find((view) => view.value.instance === deciding && view.value.status === direction && view.seenAt >= flippedAt), 5000, 5);
      const stray = views.filter((view) => view.value.instance !== deciding && view.seenAt >= flippedAt && view.value.status !== (view.value.instance === instances[0]!.name ? 'down' : 'up')).length;
      const publishedAt = decidingView.value.at;
      const perInstanceMs = firstSeen.map((seen) => Math.round((seen! - publishedAt) * 10) / 10);
      const sample: FleetFlip = {
        flip,
        direction,
        publishedAt: new Date(publishedAt).toISOString(),
        viewSeenMs: Math.round((decidingView.seenAt - publishedAt) * 10) / 10,
        perInstanceMs,
        convergedMs: Math.max(...perInstanceMs),
        strayViews: stray,
      };
      flips.push(sample);
      log(`  flip ${String(flip).padStart(2)} ${direction.padEnd(4)}: all alike ${sample.convergedMs.toFixed(1)} ms after the deciding view (${perInstanceMs.map((ms) => ms.toFixed(1)).join(' / ')} ms per instance)${stray > 0 ? `, ${stray} stray views` : ''}`);
      views.length = 0;
      // Let the other instances' periodic views settle before the next flip.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    watch.stop();
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  } finally {
    await nats?.close().catch(() => undefined);
    for (const child of started.reverse()) await stopProcess(child.pid).catch(() => undefined);
    await target.close();
  }
  const sorted = flips.map((flip) => flip.convergedMs).sort((a, b) => a - b);
  return {
    instances: SOURCES.length,
    flipsAsked: options.flips,
    meridian: meridian.label,
    natsServer: natsVersion,
    check,
    flips,
    summary: {
      minMs: sorted[0] ?? NaN,
      medianMs: sorted.length === 0 ? NaN : median(sorted),
      p95Ms: percentile(sorted, 95),
      maxMs: sorted.at(-1) ?? NaN,
      withinOneSecond: sorted.filter((ms) => ms <= 1000).length,
    },
    error,
  };
}

/** One line: "fleet convergence, 3 instances, 20 flips: min … median … p95 … max … ms; 20 of 20 within 1 s". */
export function fleetConvergenceLine(result: FleetConvergenceResult): string {
  const s = result.summary;
  const figures = result.flips.length === 0 ? 'no flip measured' : `min ${s.minMs.toFixed(1)}, median ${s.medianMs.toFixed(1)}, p95 ${s.p95Ms.toFixed(1)}, max ${s.maxMs.toFixed(1)} ms; ${s.withinOneSecond} of ${result.flips.length} within 1 s`;
  return `fleet convergence (${result.instances} instances, ${result.flips.length} of ${result.flipsAsked} flips): ${figures}${result.error ? ` — ERROR: ${result.error}` : ''}`;
}
