/**
 * The composition root: builds every part from ServerOptions, owns their start and stop order,
 * and keeps the current ServingState — the one reference the query path reads, replaced whole
 * when zones, health or geo data change.
 */
import type { Socket as UdpSocket } from 'node:dgram';
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import pino from 'pino';
import { performance } from 'node:perf_hooks';
import { checkAdminAccess, startAdminServer, type AdminServer } from '../admin/index.js';
import { createMetrics } from '../telemetry/metrics.js';
import { QueryStats, snapshotCounters, sumCounters, type CounterSnapshot } from '../telemetry/query-stats.js';
import type { Server as TcpServer, AddressInfo } from 'node:net';
import type { ServingState } from '../answer/index.js';
import { formatListenAddress, type ListenAddress } from '../config/index.js';
import { embeddedGeoDatabasePath, openGeoLocator, type GeoLocatorHandle } from '../geo/index.js';
import { HealthMonitor, probeKeyOf, type HealthView, type TargetSpec } from '../health/index.js';
import { isPoolListDown, mathRandom, poolListsOf, type RandomSource } from '../routing/index.js';
import type { Logger } from '../telemetry/logger.js';
import {
  closeTcpListener,
  DEFAULT_TCP_LIMITS,
  listenTcp,
  listenUdp,
  newListenerCounters,
  serveTcp,
  serveUdp,
  type ListenerCounters,
  type TcpLimits,
} from '../wire/index.js';
import {
  compileZone,
  compileZoneAsync,
  formatDiagnostic,
  SerialKeeper,
  ZoneCatalog,
  type CompiledZone,
  type ServedPool,
  type Diagnostic,
} from '../zones/index.js';
import { createPacketHandler, newQueryCounters, type QueryCounters } from './handle-packet.js';
import { bootZoneParser, readZonePathOffThread } from './read-zones-off-thread.js';
import { summariseFirstProbes } from './down-summary.js';

export interface ServerOptions {
  zonesPath: string;
  listen: readonly ListenAddress[];
  logger: Logger;
  /** MaxMind DB files; empty uses the embedded country database. */
  geoipFiles?: readonly string[];
  /** Skip geo entirely (no database is opened): every geo name answers from its default. */
  geoDisabled?: boolean;
  nsid?: string | null;
  /** Turn health checking off: every member counts as up (overrides still apply). */
  healthDisabled?: boolean;
  /** JSON file keeping member overrides across restarts; none when absent. */
  stateFile?: string;
  tcp?: Partial<TcpLimits>;
  random?: RandomSource;
  /** Admin HTTP address (metrics, status, overrides); off when absent. */
  admin?: ListenAddress;
  /** Bearer token for the admin endpoint; required when it is not on loopback. */
  adminToken?: string | null;
  /** One JSON line per sampled query, to a file or "-" (stdout). */
  queryLog?: { destination: string; sampleEvery: number };
  /** Watch the zones folder and reload on change (default true). */
  watchZones?: boolean;
  /**
   * Keep a zone parser thread booted between reloads (default false), so a reload does not wait
   * ~150-200 ms for a thread to start. An idle thread costs ~14 MB of RSS, a tenth of the memory
   * budget, so by default the thread is booted when the watcher first sees a change, and boots
   * during the debounce instead.
   */
  keepParserWarm?: boolean;
  /** Quiet time after a file change before reloading, ms (default 100). */
  reloadDebounceMs?: number;
  /**
   * Cluster worker mode: health comes from the primary through this view (no probes run here),
   * sockets are shared with the other workers, and zone/listen announcements are left to the
   * primary so the log reads as one server.
   */
  worker?: { health: HealthView };
  /** Cluster primary: ready only once every worker listens. */
  readyWhen?: () => boolean;
  /** Cluster primary: counters of the workers, summed into /metrics at scrape time. */
  peers?: { counters(): Promise<CounterSnapshot[]> };
}

/**
 * Longest stretch of reload work (compiling, probe targets, the all-down review) between two
 * turns of the event loop: short, because on a machine whose cores are busy the scheduler and
 * the collector stretch every slice.
 */
const REVIEW_SLICE_MS = 2;
const COMPILE_SLICE_MS = 2;

/** The outcome of loading one zone file, kept for status and metrics. */
export interface ZoneFileState {
  file: string;
  origin: string | null;
  serial: number | null;
  ok: boolean;
  diagnostics: readonly Diagnostic[];
  loadedAt: string;
}

export interface ReloadReport {
  loaded: string[];
  failed: string[];
  unloaded: string[];
  /** Settles when members that are new in this load have had their first probe. */
  firstProbes: Promise<void>;
}

/** The /status document. */
export interface StatusReport {
  ready: boolean;
  startedAt: string;
  listen: string[];
  zones: (ZoneFileState & { diagnosticsText: string[] })[];
  geo: unknown[];
  pools: {
    zone: string;
    name: string;
    pool: string;
    check: string | null;
    members: { address: string; family: 4 | 6; enabled: boolean; status: string; override: string | null; probe: unknown }[];
  }[];
  overrides: unknown;
}

type TargetMember = TargetSpec['members'][number];

// Both walks below visit every name of every zone; a reload of one 10,000-name zone would redo
// them for all the zones it did not touch, in one go between answers. Each zone's share is
// worked out once, when the zone is first seen, and kept with it.
const targetsByZone = new WeakMap<CompiledZone, ZoneTargets>();

type ZoneTargets = ReadonlyMap<string, { address: string; check: TargetSpec['check']; members: readonly TargetMember[] }>;

function* zoneTargetSteps(zone: CompiledZone): Generator<void, ZoneTargets, void> {
  const built = new Map<string, { address: string; check: TargetSpec['check']; members: TargetMember[] }>();
  let sinceYield = 0;
  for (const node of zone.nodes.values()) {
    if (++sinceYield >= 256) {
      sinceYield = 0;
      yield;
    }
    for (const pool of node.routed?.poolsByName.values() ?? []) {
      if (pool.check === null) continue;
      for (const member of [...pool.members4, ...pool.members6]) {
        if (member.probeKey === null) continue;
        let target = built.get(member.probeKey);
        if (!target) {
          target = { address: member.probeAddress, check: pool.check, members: [] };
          built.set(member.probeKey, target);
        }
        if (!target.members.some((m) => m.pool === pool.name && m.address === member.address)) {
          target.members.push({ zone: zone.origin, pool: pool.name, address: member.address });
        }
      }
    }
  }
  return built;
}

function zoneTargets(zone: CompiledZone): ZoneTargets {
  let targets = targetsByZone.get(zone);
  if (targets !== undefined) return targets;
  const steps = zoneTargetSteps(zone);
  for (;;) {
    const step = steps.next();
    if (step.done) {
      targets = step.value;
      break;
    }
  }
  targetsByZone.set(zone, targets);
  return targets;
}

/** Works out a freshly compiled zone's probe targets and routed lists in slices between answers. */
async function prepareZoneAsync(zone: CompiledZone): Promise<void> {
  // A turn between the compile's last slice and this work's first.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const targets = await runInSlices(zoneTargetSteps(zone), () => false);
  if (targets === undefined) return;
  targetsByZone.set(zone, targets);
  routedLists(zone);
}

/**
 * Runs a generator to its end in slices of at most REVIEW_SLICE_MS, yielding to the event loop
 * between them (the first slice runs at once); resolves with its value, or undefined when
 * `abandoned()` turns true between two slices.
 */
function runInSlices<T>(steps: Generator<void, T, void>, abandoned: () => boolean): Promise<T | undefined> {
  return new Promise((resolve) => {
    const slice = (): void => {
      if (abandoned()) return resolve(undefined);
      const deadline = performance.now() + REVIEW_SLICE_MS;
      for (;;) {
        const step = steps.next();
        if (step.done) return resolve(step.value);
        if (performance.now() >= deadline) return void setImmediate(slice);
      }
    };
    slice();
  });
}

/** Every (probe address, check) pair the served zones use, with the members that depend on it. */
export function probeTargets(catalog: ZoneCatalog): TargetSpec[] {
  const targets = new Map<string, TargetSpec>();
  for (const zone of catalog.zones) {
    for (const [probeKey, target] of zoneTargets(zone)) {
      const known = targets.get(probeKey);
      if (known === undefined) targets.set(probeKey, { probeKey, address: target.address, check: target.check, members: target.members });
      else targets.set(probeKey, { ...known, members: [...known.members, ...target.members] });
    }
  }
  return [...targets.values()];
}

interface RoutedList {
  zone: string;
  name: string;
  pools: readonly ServedPool[];
  poolNames: string[];
  whenAllDown: string;
  keys: { 4: string; 6: string };
}

const routedListsByZone = new WeakMap<CompiledZone, readonly RoutedList[]>();

function routedLists(zone: CompiledZone): readonly RoutedList[] {
  let lists = routedListsByZone.get(zone);
  if (lists !== undefined) return lists;
  const built: RoutedList[] = [];
  for (const node of zone.nodes.values()) {
    if (node.routed === null) continue;
    for (const pools of poolListsOf(node.routed)) {
      const poolNames = pools.map((pool) => pool.name);
      const key = (family: 4 | 6): string => `${node.name} ${family} [${poolNames.join(',')}]`;
      built.push({ zone: zone.origin, name: node.name, pools, poolNames, whenAllDown: node.routed.whenAllDown, keys: { 4: key(4), 6: key(6) } });
    }
  }
  lists = built;
  routedListsByZone.set(zone, lists);
  return lists;
}

type AllDownEntry = { zone: string; name: string; family: 4 | 6; pools: string[]; whenAllDown: string };

/**
 * Names whose whole pool list is down, as `name family [pools]` keys, filled into `out`; yields
 * every few dozen names so a caller can spread a large catalog over several turns. Computed when
 * health or zones change (never per query) so each all-down episode is logged once, not per answer.
 */
function* allDownSteps(catalog: ZoneCatalog, health: HealthView): Generator<void, Map<string, AllDownEntry>, void> {
  const out = new Map<string, AllDownEntry>();
  let sinceYield = 0;
  for (const zone of catalog.zones) {
    for (const list of routedLists(zone)) {
      for (const family of [4, 6] as const) {
        if (!isPoolListDown(list.pools, family, health)) continue;
        out.set(list.keys[family], { zone: list.zone, name: list.name, family, pools: list.poolNames, whenAllDown: list.whenAllDown });
      }
      if (++sinceYield >= 64) {
        sinceYield = 0;
        yield;
      }
    }
  }
  return out;
}

/** allDownSteps in one go. */
export function allDownLists(catalog: ZoneCatalog, health: HealthView): Map<string, AllDownEntry> {
  const steps = allDownSteps(catalog, health);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** A view where probes do not count but operator overrides still do (health checking off). */
function overridesOnly(health: HealthMonitor): HealthView {
  return {
    get version() {
      return health.version;
    },
    status: (_probeKey, address) => health.overrideOf(address) ?? 'up',
  };
}

export interface RunningMeridian {
  /** The addresses actually bound (port 0 resolved). */
  readonly addresses: readonly ListenAddress[];
  /** The sockets answering on them, in `addresses` order (a cluster primary hands them to its workers). */
  readonly sockets: { readonly udp: readonly UdpSocket[]; readonly tcp: readonly TcpServer[] };
  /**
   * Cluster worker: answer on a socket the primary bound and handed over, from now on. Called in
   * the very turn the socket arrives (it reads from then on, and a datagram read with no handler
   * would be lost), so a worker asks for its sockets only once it is ready to answer.
   */
  adopt(socket: { udp: UdpSocket; address: ListenAddress } | { tcp: TcpServer }): void;
  readonly counters: { query: QueryCounters; listener: ListenerCounters };
  /** Member health: probes, state and overrides. */
  readonly health: HealthMonitor;
  readonly geo: GeoLocatorHandle | null;
  /** The admin endpoint's bound address, when enabled. */
  readonly adminAddress: ListenAddress | null;
  /** The JSON served at /status. */
  status(): StatusReport;
  /** Query-path counters as plain data (what a cluster worker reports to the primary). */
  counterSnapshot(): CounterSnapshot;
  serving(): ServingState;
  zoneFiles(): readonly ZoneFileState[];
  reloadZones(): Promise<ReloadReport>;
  close(): Promise<void>;
}

function closeUdp(socket: UdpSocket): Promise<void> {
  return new Promise((resolve) => socket.close(() => resolve()));
}


/** Binds UDP and TCP on the same address and port (with port 0, the port UDP was given). */
async function bindPair(
  address: ListenAddress,
  handler: Parameters<typeof listenUdp>[2],
  counters: ListenerCounters,
  tcpLimits: TcpLimits,
): Promise<{ udp: UdpSocket; tcp: TcpServer; bound: ListenAddress }> {
  for (let attempt = 0; ; attempt++) {
    const udp = await listenUdp(address.host, address.port, handler, counters);
    const port = udp.address().port;
    try {
      const tcp = await listenTcp(address.host, port, handler, counters, tcpLimits);
      return { udp, tcp, bound: { host: address.host, port } };
    } catch (error) {
      await closeUdp(udp);
      // An ephemeral UDP port can be taken on the TCP side; try another pair a few times.
      if (address.port !== 0 || attempt >= 5) throw error;
    }
  }
}

/** Starts a server: loads zones and geo data, binds every address, and returns once it answers. */
export async function startMeridian(options: ServerOptions): Promise<RunningMeridian> {
  // A configuration error: refuse before loading, probing or binding anything.
  if (options.admin) checkAdminAccess(options.admin, options.adminToken);
  const logger = options.logger;
  // What every process of a cluster would repeat (zone loads, listening sockets, all-down
  // episodes) is said by the primary alone.
  const announce = options.worker ? logger.child({}, { level: 'silent' }) : logger;
  const random = options.random ?? mathRandom;
  const queryCounters = newQueryCounters();
  const listenerCounters = newListenerCounters();
  const serials = new SerialKeeper();

  let geo: GeoLocatorHandle | null = null;
  if (!options.geoDisabled) {
    const files = options.geoipFiles?.length ? options.geoipFiles : [embeddedGeoDatabasePath()];
    geo = await openGeoLocator(files, { logger });
    for (const info of geo.describe()) {
      logger.info({ file: info.file, kind: info.kind, schema: info.schema, built: info.buildDate }, 'geo database loaded');
    }
  }

  const zoneReloads = { ok: 0, failed: 0 };
  let ready = false;
  let metrics: ReturnType<typeof createMetrics> | null = null;
  // Probes that finish before the metrics exist (the first round, at start-up) are observed once they do.
  const earlyProbes: [check: string, seconds: number][] = [];
  const health = new HealthMonitor({
    logger,
    // Workers never write overrides: the primary owns the state file.
    stateFile: options.worker ? undefined : options.stateFile,
    onProbe: (check, result) => {
      if (metrics) metrics.observeProbe(check, result.latencyMs / 1000);
      else earlyProbes.push([check, result.latencyMs / 1000]);
    },
  });

  // Last good compiled zone per file: a broken edit keeps the previous version serving.
  const lastGood = new Map<string, CompiledZone>();
  const fileStates = new Map<string, ZoneFileState>();
  const probing = !options.healthDisabled && options.worker === undefined;
  let state: ServingState = {
    catalog: new ZoneCatalog([]),
    health: options.worker?.health ?? (options.healthDisabled ? overridesOnly(health) : health),
    geo,
    random,
  };

  async function loadZones(afterStart: boolean): Promise<ReloadReport> {
    const report: Omit<ReloadReport, 'firstProbes'> = { loaded: [], failed: [], unloaded: [] };
    // After start-up, parsing runs in a worker and compiling in slices, so answers never stall.
    // Parsing runs in a worker thread (its garbage dies with it), compiling in slices after start-up.
    const loads = await readZonePathOffThread(options.zonesPath, undefined, options.keepParserWarm ?? false);
    const seen = new Set<string>();
    const now = new Date().toISOString();
    for (const load of loads) {
      seen.add(load.file);
      if (load.ok) {
        const previous = lastGood.get(load.file);
        if (previous && previous.contentHash === load.source.contentHash) {
          // Unchanged (or reverted to the version being served): nothing to compile.
          const known = fileStates.get(load.file);
          if (known && !known.ok) fileStates.set(load.file, { ...known, ok: true, diagnostics: [] });
          continue;
        }
        const serial = serials.serialFor(load.source);
        const zone = afterStart ? await compileZoneAsync(load.source, serial, probeKeyOf, COMPILE_SLICE_MS) : compileZone(load.source, serial, probeKeyOf);
        if (afterStart) await prepareZoneAsync(zone);
        lastGood.set(load.file, zone);
        fileStates.set(load.file, { file: load.file, origin: zone.origin, serial: zone.serial, ok: true, diagnostics: [], loadedAt: now });
        report.loaded.push(load.file);
        if (afterStart) zoneReloads.ok++;
        announce.info({ zone: zone.origin, file: load.file, serial: zone.serial, names: zone.nodes.size }, 'zone loaded');
      } else {
        const previous = lastGood.get(load.file);
        fileStates.set(load.file, {
          file: load.file,
          origin: previous?.origin ?? null,
          serial: previous?.serial ?? null,
          ok: false,
          diagnostics: load.diagnostics,
          loadedAt: fileStates.get(load.file)?.loadedAt ?? now,
        });
        report.failed.push(load.file);
        if (afterStart) zoneReloads.failed++;
        for (const d of load.diagnostics) {
          announce.error({ file: d.file, line: d.line, col: d.col, code: d.code, zone: previous?.origin }, formatDiagnostic(d));
        }
        if (previous) announce.warn({ zone: previous.origin, file: load.file, serial: previous.serial }, 'zone file rejected; still serving the last good version');
      }
    }
    for (const file of [...lastGood.keys()]) {
      if (seen.has(file)) continue;
      announce.info({ zone: lastGood.get(file)!.origin, file }, 'zone file removed; zone unloaded');
      lastGood.delete(file);
      fileStates.delete(file);
      report.unloaded.push(file);
    }
    for (const file of [...fileStates.keys()]) if (!seen.has(file)) fileStates.delete(file);
    // A last-good zone must not shadow a file that now defines the same origin validly.
    const byOrigin = new Map<string, CompiledZone>();
    for (const [file, zone] of [...lastGood].sort(([a], [b]) => a.localeCompare(b))) {
      if (!byOrigin.has(zone.origin)) byOrigin.set(zone.origin, zone);
      else announce.warn({ zone: zone.origin, file }, 'zone defined twice; keeping the first file');
    }
    const catalog = new ZoneCatalog([...byOrigin.values()]);
    // Probe targets follow the zones: kept ones keep their state, new ones are probed at once.
    const targets = probeTargets(catalog);
    if (afterStart && probing) {
      // A new target counts as up until its first probe, so a member whose check changed (a new
      // probe key) would be answered even though it is known dead. Probe the new targets first,
      // alongside the old ones the current catalog still reads, and swap the catalog after.
      const union = new Map(probeTargets(state.catalog).map((target) => [target.probeKey, target]));
      for (const target of targets) union.set(target.probeKey, target);
      await health.setTargets([...union.values()]);
    }
    const firstProbes = probing ? health.setTargets(targets) : Promise.resolve();
    state = { ...state, catalog };
    return { ...report, firstProbes };
  }

  let allDown = new Map<string, AllDownEntry>();
  const logAllDownChanges = (now: Map<string, AllDownEntry>): void => {
    for (const [key, entry] of now) {
      if (allDown.has(key)) continue;
      const action = entry.whenAllDown === 'fail-closed' ? 'answering NODATA (fail-closed)' : 'answering the first pool anyway (fail-open)';
      announce.warn({ zone: entry.zone, name: entry.name, family: entry.family, pools: entry.pools }, `every pool is down for ${entry.name} (IPv${entry.family}); ${action}`);
    }
    for (const [key, entry] of allDown) {
      if (!now.has(key)) announce.info({ zone: entry.zone, name: entry.name, family: entry.family, pools: entry.pools }, `a pool is up again for ${entry.name} (IPv${entry.family})`);
    }
    allDown = now;
  };
  // Reviews run in slices of a few ms between answers (a 10,000-name catalog takes tens of ms
  // in all); a review that a newer one overtakes stops where it is.
  let reviewGeneration = 0;
  const reviewAllDown = async (): Promise<void> => {
    const generation = ++reviewGeneration;
    const now = await runInSlices(allDownSteps(state.catalog, state.health), () => generation !== reviewGeneration);
    if (now !== undefined) logAllDownChanges(now);
  };
  // A burst of state changes (a rack going down, the first round of probes) is reviewed once.
  let reviewPending = false;
  health.onChange(() => {
    if (reviewPending) return;
    reviewPending = true;
    setImmediate(() => {
      reviewPending = false;
      void reviewAllDown();
    });
  });

  // As gdnsd does, the first probe of every member finishes (bounded by its timeout) before
  // the first answer, so answers reflect health from the start.
  const initial = await loadZones(false);
  if (probing) {
    await health.start();
    await initial.firstProbes;
  }
  // Before the first answer, in one go: nothing else waits on this event loop yet. One summary
  // line instead of a warning per member and per pool list; each list stays at debug level.
  allDown = allDownLists(state.catalog, state.health);
  for (const entry of allDown.values()) announce.debug({ zone: entry.zone, name: entry.name, family: entry.family, pools: entry.pools }, `every pool is down for ${entry.name} (IPv${entry.family})`);
  if (probing) {
    const summary = summariseFirstProbes(health.snapshot().targets, [...allDown.values()]);
    announce[summary.level](summary.fields, summary.msg);
  }
  // Loading leaves the parsed sources behind as garbage in a heap grown to hold them and the
  // compiled zones at once. One full collection now, before any query waits on it, gives that
  // memory back (about 11 MB of RSS with a 10,000-name zone); later reloads leave it to V8.
  // `gc` exists when node runs with --expose-gc, as the launch commands in this repository do.
  const collect = (globalThis as { gc?: () => void }).gc;
  if (typeof collect === 'function') collect();

  let queryLogger: pino.Logger | null = null;
  let queryLogStream: ReturnType<typeof pino.destination> | null = null;
  if (options.queryLog) {
    const destination = options.queryLog.destination === '-' ? 1 : options.queryLog.destination;
    queryLogStream = pino.destination({ dest: destination, sync: false, mkdir: true });
    queryLogger = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, queryLogStream);
  }
  /** Writes out what is buffered and closes the file (stdout stays open). */
  const closeQueryLog = (): Promise<void> =>
    new Promise((resolve) => {
      const stream = queryLogStream;
      queryLogStream = null;
      if (stream === null) return resolve();
      stream.once('close', () => resolve());
      stream.once('error', () => resolve());
      stream.end();
    });
  const handler = createPacketHandler(
    () => state,
    { nsid: options.nsid ? Buffer.from(options.nsid, 'utf8') : null },
    queryCounters,
    queryLogger ? { logger: queryLogger, sampleEvery: Math.max(1, options.queryLog?.sampleEvery ?? 1) } : null,
  );
  const tcpLimits: TcpLimits = { ...DEFAULT_TCP_LIMITS, ...options.tcp };
  const udpSockets: UdpSocket[] = [];
  const tcpServers: TcpServer[] = [];
  const bound: ListenAddress[] = [];
  try {
    for (const address of options.listen) {
      const pair = await bindPair(address, handler, listenerCounters, tcpLimits);
      udpSockets.push(pair.udp);
      tcpServers.push(pair.tcp);
      bound.push(pair.bound);
      const port = (pair.tcp.address() as AddressInfo).port;
      announce.info({ address: formatListenAddress(pair.bound), transport: 'udp' }, `listening on ${formatListenAddress(pair.bound)} udp`);
      announce.info({ address: formatListenAddress({ host: pair.bound.host, port }), transport: 'tcp' }, `listening on ${formatListenAddress(pair.bound)} tcp`);
    }
  } catch (error) {
    await Promise.all([...udpSockets.map(closeUdp), ...tcpServers.map(closeTcpListener)]);
    await closeQueryLog();
    await geo?.close();
    await health.stop();
    throw error;
  }

  let closed = false;
  const startedAt = new Date().toISOString();
  const status = (): StatusReport => {
    const snapshot = health.snapshot();
    const targets = new Map(snapshot.targets.map((t) => [t.probeKey, t]));
    const pools: StatusReport['pools'] = [];
    for (const zone of state.catalog.zones) {
      for (const node of zone.nodes.values()) {
        for (const pool of node.routed?.poolsByName.values() ?? []) {
          pools.push({
            zone: zone.origin,
            name: node.name,
            pool: pool.name,
            check: pool.check?.name ?? null,
            members: [...pool.members4, ...pool.members6].map((m) => {
              const target = m.probeKey ? targets.get(m.probeKey) : undefined;
              return {
                address: m.address,
                family: m.family,
                enabled: m.enabled,
                status: m.enabled ? state.health.status(m.probeKey, m.address) : 'disabled',
                override: health.overrideOf(m.address) ?? null,
                probe: target
                  ? { target: target.address, lastProbeAt: target.lastProbeAt, result: target.lastResult, reason: target.reason, latencyMs: target.latencyMs, since: target.since }
                  : null,
              };
            }),
          });
        }
      }
    }
    return {
      ready: ready && (options.readyWhen?.() ?? true),
      startedAt,
      listen: bound.map(formatListenAddress),
      zones: [...fileStates.values()].map((z) => ({ ...z, diagnosticsText: z.diagnostics.map(formatDiagnostic) })),
      geo: geo?.describe() ?? [],
      pools,
      overrides: snapshot.overrides,
    };
  };

  const ownCounters = (): CounterSnapshot => {
    const { stats: _stats, ...query } = queryCounters;
    return snapshotCounters(queryCounters.stats, { ...listenerCounters, ...query });
  };
  // A primary's own listeners are none: its query metrics are the sum of its workers'.
  const summedStats = options.peers ? new QueryStats() : queryCounters.stats;
  let summedTransport: Record<string, number> = {};
  const gatherPeers = async (): Promise<void> => {
    if (!options.peers) return;
    summedTransport = sumCounters(summedStats, [ownCounters(), ...(await options.peers.counters())]);
  };
  const transportOf = (key: string): number => (options.peers ? summedTransport[key] ?? 0 : ((ownCounters().transport[key] ?? 0)));
  metrics = createMetrics({
    queryStats: summedStats,
    transport: () => ({
      udpReceived: transportOf('udpReceived'),
      tcpReceived: transportOf('tcpReceived'),
      tcpConnections: transportOf('tcpConnections'),
      tcpConnectionsRejected: transportOf('tcpConnectionsRejected'),
      droppedShort: transportOf('droppedShort'),
      droppedResponses: transportOf('droppedResponses'),
      truncated: transportOf('truncated'),
      servfailFromErrors: transportOf('servfailFromErrors'),
      ecsQueries: transportOf('ecsQueries'),
    }),
    probes: () => health.counters.probes,
    healthChanges: () => health.counters.stateChanges,
    members: function* () {
      const seen = new Set<string>();
      for (const zone of state.catalog.zones) {
        for (const node of zone.nodes.values()) {
          for (const pool of node.routed?.poolsByName.values() ?? []) {
            for (const m of [...pool.members4, ...pool.members6]) {
              const key = `${zone.origin} ${pool.name} ${m.address}`;
              if (seen.has(key)) continue;
              seen.add(key);
              yield { zone: zone.origin, pool: pool.name, member: m.address, up: m.enabled && state.health.status(m.probeKey, m.address) === 'up' };
            }
          }
        }
      }
    },
    zones: () => [...fileStates.values()].map((z) => ({ zone: z.origin ?? '', file: z.file, ok: z.ok, serial: z.serial })),
    zoneReloads: () => zoneReloads,
  });
  for (const [check, seconds] of earlyProbes.splice(0)) metrics.observeProbe(check, seconds);

  let admin: AdminServer | null = null;
  if (options.admin) {
    try {
      admin = await startAdminServer(
        options.admin,
        options.adminToken ?? null,
        {
          registry: metrics.registry,
          beforeScrape: gatherPeers,
          status,
          live: () => !closed,
          ready: () => ready && !closed && (options.readyWhen?.() ?? true),
          overrides: () => health.snapshot().overrides,
          setOverride: (address, override) => health.setOverride(address, override),
        },
        logger,
      );
      logger.info({ address: formatListenAddress(admin.address) }, `admin HTTP on ${formatListenAddress(admin.address)}`);
    } catch (error) {
      await Promise.all([...udpSockets.map(closeUdp), ...tcpServers.map(closeTcpListener)]);
      await closeQueryLog();
      await geo?.close();
      await health.stop();
      throw error;
    }
  }

  let reloading: Promise<ReloadReport> | null = null;
  const reloadZones = async (): Promise<ReloadReport> => {
    // One reload at a time: a second request waits for the first, then runs with fresh files.
    while (reloading) await reloading.catch(() => undefined);
    const knownTargets = probing ? new Set(health.snapshot().targets.map((target) => target.probeKey)) : null;
    reloading = loadZones(true);
    try {
      const report = await reloading;
      if (knownTargets !== null) {
        // Members new in this load that their first probe found down: one line, as at start-up.
        void report.firstProbes.then(() => {
          const added = health.snapshot().targets.filter((target) => !knownTargets.has(target.probeKey));
          const summary = summariseFirstProbes(added, []);
          if (summary.fields.down > 0) announce.warn(summary.fields, summary.msg);
        });
      }
      await reviewAllDown();
      return report;
    } finally {
      reloading = null;
    }
  };

  // Zone files are watched; a burst of editor writes becomes one reload after a quiet moment.
  let watcher: FSWatcher | null = null;
  let reloadTimer: NodeJS.Timeout | null = null;
  if (options.watchZones !== false) {
    const zonesAreFolder = (await stat(options.zonesPath)).isDirectory();
    const scheduleReload = (): void => {
      if (reloadTimer) clearTimeout(reloadTimer);
      // The parser thread starts while the burst of writes settles.
      else bootZoneParser();
      reloadTimer = setTimeout(() => {
        reloadTimer = null;
        reloadZones().catch((error: unknown) => logger.error({ reason: String(error) }, 'zone reload failed'));
      }, options.reloadDebounceMs ?? 100);
    };
    try {
      watcher = watch(options.zonesPath, { persistent: false }, (_event, file) => {
        if (!zonesAreFolder || file === null || /\.ya?ml$/i.test(String(file))) scheduleReload();
      });
      watcher.on('error', (error) => logger.warn({ reason: String(error) }, 'zone watcher failed; use SIGHUP to reload'));
    } catch (error) {
      logger.warn({ reason: String(error) }, 'cannot watch the zones folder; use SIGHUP to reload');
    }
  }
  ready = true;

  return {
    addresses: bound,
    sockets: { udp: udpSockets, tcp: tcpServers },
    adopt(socket) {
      if ('udp' in socket) {
        serveUdp(socket.udp, handler, listenerCounters);
        udpSockets.push(socket.udp);
        bound.push(socket.address);
      } else {
        serveTcp(socket.tcp, handler, listenerCounters, tcpLimits);
        tcpServers.push(socket.tcp);
      }
    },
    counters: { query: queryCounters, listener: listenerCounters },
    health,
    geo,
    adminAddress: admin?.address ?? null,
    counterSnapshot: ownCounters,
    status,
    serving: () => state,
    zoneFiles: () => [...fileStates.values()],
    reloadZones,
    async close() {
      if (closed) return;
      closed = true;
      watcher?.close();
      if (reloadTimer) clearTimeout(reloadTimer);
      await Promise.all([...udpSockets.map(closeUdp), ...tcpServers.map(closeTcpListener), admin?.close()]);
      await closeQueryLog();
      await geo?.close();
      await health.stop();
    },
  };
}
