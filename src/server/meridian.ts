/**
 * The composition root: builds every part from ServerOptions in the order they depend on each
 * other, and keeps the current ServingState — the one reference the query path reads, replaced
 * whole when zones change (health and geo swap their own data inside it).
 */
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer } from 'node:net';
import { checkAdminAccess, type StatusReport, type ZoneFileState } from '../admin/index.js';
import type { ServingState } from '../answer/index.js';
import { servingState } from '../authority/index.js';
import { randomCookieSecrets, ServerCookies, tickingSecondsClock, type CookieCounters, type CookieSecrets } from '../cookies/index.js';
import type { ListenAddress } from '../config/index.js';
import { FleetConnection, FleetMember, meridianVersion, type FleetOptions } from '../fleet/index.js';
import { DnssecKeeper, type DnssecOptions } from '../dnssec/index.js';
import { embeddedGeoDatabasePath, openGeoLocator, type GeoLocatorHandle } from '../geo/index.js';
import { HealthMonitor, type HealthView } from '../health/index.js';
import { ResponseRateLimiter, startRateLimitReview, type RateLimitSettings } from '../rate-limit/index.js';
import { mathRandom, type RandomSource } from '../routing/index.js';
import { CounterTotals, FaultLog, ProbeDurations, type CounterSnapshot, type FaultKind, type Logger, type PeerCounters } from '../telemetry/index.js';
import { type BatchedUdpStats, DEFAULT_TCP_LIMITS, newListenerCounters, type ListenerCounters, type TcpLimits } from '../wire/index.js';
import { EMPTY_CATALOG } from '../zones/index.js';
import { RevisionFollower, type ZoneRevisionStatus } from '../zone-revisions/index.js';
import { AllDownWatch } from './all-down-watch.js';
import { DnsSockets, type UdpIo } from './dns-sockets.js';
import { createPacketHandler, newQueryCounters, type QueryCounters } from './handle-packet.js';
import { QueryLog } from './query-log.js';
import { Teardown } from './teardown.js';
import { startOperatorViews } from './operator-views.js';
import { startZones } from './fleet-zones.js';
import { bootZoneParser } from './read-zones-off-thread.js';
import { ZoneLoader, type ReloadReport } from './zone-loader.js';
import { ZoneSet } from './zone-set.js';
import { watchZonePath } from './zone-watcher.js';

export interface ServerOptions {
  zonesPath: string;
  listen: readonly ListenAddress[];
  logger: Logger;
  /** MaxMind DB files; empty uses the embedded country database. */
  geoipFiles?: readonly string[];
  /** Skip geo entirely (no database is opened): every geo name answers from its default. */
  geoDisabled?: boolean;
  nsid?: string | null;
  /** DNS cookie secrets (--cookie-secret-file); absent: a random secret; null: cookies off (--no-cookies). */
  cookies?: CookieSecrets | null;
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
  /** Response rate limiting of UDP answers (`--rrl`); off when absent. */
  rateLimit?: RateLimitSettings;
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
  /**
   * UDP through dgram (default) or the native batched module (recvmmsg/sendmmsg); without the
   * module, dgram and a warning. Batched sockets cannot be handed to other processes: in a
   * cluster each process binds its own on the same address (`udpPortShared`, SO_REUSEPORT).
   */
  io?: UdpIo;
  /** Cluster primary with batched I/O: its UDP sockets let the workers bind the same address. */
  udpPortShared?: boolean;
  /** Cluster primary: counters of the workers, summed into /metrics at scrape time. */
  peers?: PeerCounters;
  /** Join the fleet through this NATS engine (the primary alone connects); none: a lone instance. */
  fleet?: FleetOptions | null;
  /**
   * Serve the fleet's zone revisions (--zones-from-fleet) instead of `zonesPath`: the primary
   * follows the engine; a cluster worker loads the revision folder its primary names.
   */
  zonesFromFleet?: boolean;
  /** Where this instance keeps what must outlive it (--state-dir): the last zone revision served. */
  stateDir?: string;
  /** Cluster primary: a fleet revision's folder was swapped in (the workers load it too). */
  onZonesSwitched?: (folder: string) => void;
  /** Local addresses health probes are bound to (--probe-source), one per family. */
  probeSources?: readonly string[];
  /** DNSSEC key folder (--keys): every zone with an active key in it is signed. */
  keysDir?: string;
  /** Signing settings besides the folder (tests: a clock, short lifetimes). */
  dnssec?: Omit<DnssecOptions, 'keysDir' | 'logger'>;
}

export interface RunningMeridian {
  /** The addresses actually bound (port 0 resolved). */
  readonly addresses: readonly ListenAddress[];
  /**
   * The sockets answering on them, in `addresses` order (a cluster primary hands them to its
   * workers), and the UDP I/O in use (batched: `udp` is empty, each process binds its own).
   */
  readonly sockets: { readonly udp: readonly UdpSocket[]; readonly tcp: readonly TcpServer[]; readonly io: UdpIo };
  /**
   * Cluster worker: answer on a socket the primary bound and handed over, from now on. Called in
   * the very turn the socket arrives (it reads from then on, and a datagram read with no handler
   * would be lost), so a worker asks for its sockets only once it is ready to answer. With batched
   * I/O (`udpPort`), binds its own UDP socket on the primary's address (SO_REUSEPORT); throws if it cannot.
   */
  adopt(socket: { udp: UdpSocket; address: ListenAddress } | { tcp: TcpServer } | { udpPort: ListenAddress }): void;
  /** The response rate limiter, when `rateLimit` is on. */
  readonly rateLimiter: ResponseRateLimiter | null;
  readonly counters: { query: QueryCounters; listener: ListenerCounters; cookies: CookieCounters | null };
  /** Member health: probes, state and overrides. */
  readonly health: HealthMonitor;
  /** System calls and datagrams of the batched UDP sockets (zeros with dgram). */
  batchedStats(): BatchedUdpStats;
  readonly geo: GeoLocatorHandle | null;
  /** The connection to the fleet's NATS engine (--fleet, not in cluster workers); null alone. */
  readonly fleet: FleetConnection | null;
  /** This instance as a member of the fleet (health views, overrides); null alone, in workers, or with --no-health. */
  readonly fleetMember: FleetMember | null;
  /** The DNSSEC keys and signers, with --keys. */
  readonly dnssec: DnssecKeeper | null;
  /** The admin endpoint's bound address, when enabled. */
  readonly adminAddress: ListenAddress | null;
  /** The JSON served at /status. */
  status(): StatusReport;
  /** Query-path counters as plain data (what a cluster worker reports to the primary). */
  counterSnapshot(): CounterSnapshot;
  serving(): ServingState;
  zoneFiles(): readonly ZoneFileState[];
  reloadZones(): Promise<ReloadReport>;
  /** The folder (or file) the zones are read from: with --zones-from-fleet, the revision's folder. */
  zonesPath(): string;
  /** Cluster worker: serve the zones of the fleet revision folder the primary swapped in. */
  switchZones(folder: string): Promise<ReloadReport>;
  /** With --zones-from-fleet (primary): the revision served, the newest seen, the last refused. */
  zoneRevision(): ZoneRevisionStatus | null;
  close(): Promise<void>;
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

/** Every plain per-process counter by name: what a cluster worker's snapshot carries and /metrics sums. */
function plainCounters(listener: ListenerCounters, query: QueryCounters, more: Record<string, number>): Record<string, number> {
  const { stats: _stats, ...plain } = query;
  return { ...listener, ...plain, ...more };
}

/** The rate limiter's counters by name for /metrics (zeros when it is off). */
function rateLimitCounters(limiter: ResponseRateLimiter | null): Record<string, number> {
  const c = limiter?.counters;
  return { rrlLimited: c?.limited ?? 0, rrlSlipped: c?.slipped ?? 0, rrlDropped: c?.dropped ?? 0, rrlBadCookie: c?.badCookie ?? 0, rrlEvicted: c?.evicted ?? 0, rrlTokensInUse: limiter?.tokensInUse() ?? 0 };
}

/** Errors the query path and the sockets meet, as the fault log says them (off the path, rate-limited). */
const SERVER_FAULTS = {
  answer: { level: 'error', msg: 'answering a query threw; it was answered SERVFAIL' },
  handler: { level: 'error', msg: 'the packet handler threw; the request went unanswered' },
  send: { level: 'warn', msg: 'sending a DNS response failed' },
  listener: { level: 'error', msg: 'a DNS TCP listener failed' },
} as const satisfies Record<string, FaultKind>;

async function openGeo(options: ServerOptions): Promise<GeoLocatorHandle | null> {
  if (options.geoDisabled) return null;
  const files = options.geoipFiles?.length ? options.geoipFiles : [embeddedGeoDatabasePath()];
  const geo = await openGeoLocator(files, { logger: options.logger });
  for (const info of geo.describe()) {
    options.logger.info({ file: info.file, kind: info.kind, schema: info.schema, built: info.buildDate }, 'geo database loaded');
  }
  return geo;
}

/**
 * Loading leaves the parsed sources behind as garbage in a heap grown to hold them and the
 * compiled zones at once. One full collection before any query waits on it gives that memory
 * back (about 11 MB of RSS with a 10,000-name zone); later reloads leave it to V8. `gc` exists
 * when node runs with --expose-gc, as the launch commands in this repository do.
 */
function collectStartupGarbage(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (typeof collect === 'function') collect();
}

/** Starts a server: loads zones and geo data, binds every address, and returns once it answers. */
export async function startMeridian(options: ServerOptions): Promise<RunningMeridian> {
  // A configuration error: refuse before loading, probing or binding anything.
  if (options.admin) checkAdminAccess(options.admin, options.adminToken);
  const teardown = new Teardown(options.logger);
  try {
    return await assemble(options, teardown);
  } catch (error) {
    await teardown.run();
    throw error;
  }
}

async function assemble(options: ServerOptions, teardown: Teardown): Promise<RunningMeridian> {
  const logger = options.logger;
  // What every process of a cluster would repeat (zone loads, listening sockets, all-down
  // episodes) is said by the primary alone.
  const announce = options.worker ? logger.child({}, { level: 'silent' }) : logger;
  const faults = new FaultLog(logger, SERVER_FAULTS);
  teardown.add('fault log', () => faults.close());

  const geo = await openGeo(options);
  if (geo) teardown.add('geo watcher', () => geo.close());
  // Connecting runs in the background: an unreachable engine never delays the start.
  const fleet = options.fleet && !options.worker ? FleetConnection.open(options.fleet, logger) : null;
  if (fleet) teardown.add('fleet connection', () => fleet.close());
  const probeDurations = new ProbeDurations();
  const health = new HealthMonitor({
    logger,
    // Workers never write overrides: the primary owns the state file.
    stateFile: options.worker ? undefined : options.stateFile,
    onProbe: (check, result) => probeDurations.observe(check, result.latencyMs / 1000),
    probeSources: options.probeSources ?? [],
  });
  teardown.add('health monitor', () => health.stop());
  const dnssec = options.keysDir === undefined ? null : await DnssecKeeper.open({ ...options.dnssec, keysDir: options.keysDir, logger: announce });
  if (dnssec) teardown.add('DNSSEC keys', () => dnssec.close());
  let state: ServingState = servingState(EMPTY_CATALOG, {
    health: options.worker?.health ?? (options.healthDisabled ? overridesOnly(health) : health),
    geo,
    random: options.random ?? mathRandom,
    signing: dnssec,
  });
  const zones = new ZoneSet(announce);
  const allDown = new AllDownWatch(() => state, announce, logger);
  teardown.add('all-down watch', () => allDown.stop());
  health.onChange(() => allDown.reviewSoon());
  // Member sets that health now makes possible are signed ahead, off the query path.
  if (dnssec) health.onChange(() => dnssec.healthChanged(state.health));

  const loader = new ZoneLoader({
    zonesPath: options.zonesPath,
    wholeFolders: options.zonesFromFleet === true,
    // A fleet instance keeps a parser thread booted (~14 MB): a pushed revision is not kept waiting
    // for a thread to start, which no editor's burst of writes hides as the folder watch's does.
    keepParserWarm: options.keepParserWarm ?? options.zonesFromFleet === true,
    zones,
    probes: !options.healthDisabled && options.worker === undefined ? health : null,
    catalog: { current: () => state.catalog, swap: (catalog) => (state = servingState(catalog, state, state)) },
    allDown,
    announce,
    logger,
  });
  if (options.zonesFromFleet && fleet && options.stateDir === undefined) throw new Error('--zones-from-fleet needs --state-dir DIR (the last revision served is kept there)');
  const follower =
    options.zonesFromFleet && fleet && options.stateDir !== undefined
      ? new RevisionFollower({
          stateDir: options.stateDir,
          fleet,
          load: async (folder) => {
            await loader.switchTo(folder);
            options.onZonesSwitched?.(folder);
          },
          prepare: bootZoneParser,
          logger,
        })
      : null;
  if (follower) teardown.add('zone revision follower', () => follower.close());
  await startZones(loader, follower);
  collectStartupGarbage();
  // Before binding: a name another live instance holds refuses the start (InstanceNameTaken).
  const member =
    fleet === null || options.healthDisabled
      ? null
      : await FleetMember.start({
          connection: fleet,
          health,
          logger,
          version: meridianVersion(),
          zones: () => zones.files().flatMap((file) => (file.origin !== null && file.serial !== null ? [{ zone: file.origin, serial: file.serial }] : [])),
          zoneRevision: () => follower?.status().served?.number ?? null,
        });
  if (member) teardown.add('fleet member', () => member.close());

  const queryLog = options.queryLog ? new QueryLog(options.queryLog) : null;
  if (queryLog) teardown.add('query log', () => queryLog.close());
  const queryCounters = newQueryCounters();
  const listenerCounters = newListenerCounters();
  const nsid = options.nsid ? Buffer.from(options.nsid, 'utf8') : null;
  // Each process limits what it answers itself (with --workers the kernel spreads a flood over them).
  const rateLimiter = options.rateLimit ? new ResponseRateLimiter(options.rateLimit) : null;
  if (rateLimiter) {
    const review = startRateLimitReview(rateLimiter, logger);
    teardown.add('rate limit review', () => review.stop());
  }
  let cookies: ServerCookies | null = null;
  if (options.cookies !== null) {
    const clock = tickingSecondsClock();
    teardown.add('cookie clock', () => clock.stop());
    cookies = new ServerCookies(options.cookies ?? randomCookieSecrets(), clock.now);
  }
  const handler = createPacketHandler(() => state, { nsid }, queryCounters, queryLog, (error) => faults.note('answer', error), rateLimiter, cookies);
  const sockets = new DnsSockets(handler, listenerCounters, { ...DEFAULT_TCP_LIMITS, ...options.tcp }, (kind, error) => faults.note(kind, error), options.io, logger, options.udpPortShared);
  teardown.add('DNS sockets', () => sockets.close());
  await sockets.bind(options.listen, announce);

  const counters = new CounterTotals(
    {
      stats: queryCounters.stats,
      transport: () =>
        plainCounters(listenerCounters, queryCounters, {
          geoLookupErrors: geo?.lookupErrors ?? 0,
          zoneReloadErrors: loader.reloadErrors,
          ...rateLimitCounters(rateLimiter),
          ...cookies?.counters,
        }),
    },
    options.peers ?? null,
  );
  let ready = false;
  const views = await startOperatorViews(
    {
      serving: () => state,
      health,
      zones,
      geo,
      sockets,
      counters,
      probeDurations,
      teardown,
      ready: () => ready && (options.readyWhen?.() ?? true),
      zoneRevision: follower ? () => follower.status() : undefined,
      fleet: member,
    },
    options.admin ? { address: options.admin, token: options.adminToken ?? null } : null,
    logger,
  );

  // Fleet revisions arrive from the engine, never by editing the folder they were written to.
  if (options.watchZones !== false && !options.zonesFromFleet) {
    // A failed reload is logged and counted by the loader.
    const reloadOnChange = (): void => void loader.reload().catch(() => undefined);
    const watcher = await watchZonePath(options.zonesPath, options.reloadDebounceMs ?? 100, reloadOnChange, logger);
    teardown.add('zone watcher', () => watcher.close());
  }
  ready = true;

  return {
    addresses: sockets.addresses,
    sockets,
    adopt: (socket) => sockets.adopt(socket),
    rateLimiter,
    counters: { query: queryCounters, listener: listenerCounters, cookies: cookies?.counters ?? null },
    health,
    geo,
    fleet,
    fleetMember: member,
    dnssec,
    adminAddress: views.adminAddress,
    counterSnapshot: () => counters.snapshot(),
    status: views.status,
    serving: () => state,
    zoneFiles: () => zones.files(),
    reloadZones: () => loader.reload(),
    zonesPath: () => loader.path,
    switchZones: (folder) => loader.switchTo(folder),
    zoneRevision: () => follower?.status() ?? null,
    batchedStats: () => sockets.batchedStats(),
    close: () => teardown.run(),
  };
}
