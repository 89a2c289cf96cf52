/**
 * The composition root: builds every part from ServerOptions in the order they depend on each
 * other, and keeps the current ServingState — the one reference the query path reads, replaced
 * whole when zones change (health and geo swap their own data inside it). Each feature is started
 * by its own folder's factory and registers its stop with the one Teardown as soon as it exists.
 */
import { checkAdminAccess } from '../admin/index.js';
import type { ServingState } from '../answer/index.js';
import { servingState } from '../authority/index.js';
import { startServerCookies } from '../cookies/index.js';
import { startDnssec } from '../dnssec/index.js';
import { Fleet } from '../fleet/index.js';
import { openServerGeo } from '../geo/index.js';
import { HealthMonitor, overridesOnly } from '../health/index.js';
import { startRateLimiting } from '../rate-limit/index.js';
import { mathRandom } from '../routing/index.js';
import { FaultLog, ProbeDurations, type FaultKind } from '../telemetry/index.js';
import { DEFAULT_TCP_LIMITS, newListenerCounters } from '../wire/index.js';
import { EMPTY_CATALOG } from '../zones/index.js';
import { AllDownWatch } from './all-down-watch.js';
import { DnsSockets } from './dns-sockets.js';
import { followFleetZones, startZones } from './fleet-zones.js';
import { createPacketHandler, newQueryCounters } from './handle-packet.js';
import { startOperatorViews } from './operator-views.js';
import { QueryLog } from './query-log.js';
import { serverCounters } from './server-counters.js';
import type { RunningMeridian, ServerOptions } from './server-options.js';
import { Teardown } from './teardown.js';
import { ZoneLoader } from './zone-loader.js';
import { ZoneSet } from './zone-set.js';
import { watchZonePath } from './zone-watcher.js';

export type { RunningMeridian, ServerOptions } from './server-options.js';

/** Errors the query path and the sockets meet, as the fault log says them (off the path, rate-limited). */
const SERVER_FAULTS = {
  answer: { level: 'error', msg: 'answering a query threw; it was answered SERVFAIL' },
  handler: { level: 'error', msg: 'the packet handler threw; the request went unanswered' },
  send: { level: 'warn', msg: 'sending a DNS response failed' },
  listener: { level: 'error', msg: 'a DNS TCP listener failed' },
} as const satisfies Record<string, FaultKind>;

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
  const { logger, worker } = options;
  // What every process of a cluster would repeat (zone loads, listening sockets, all-down
  // episodes) is said by the primary alone.
  const announce = worker ? logger.child({}, { level: 'silent' }) : logger;
  const faults = teardown.own('fault log', new FaultLog(logger, SERVER_FAULTS));
  const geo = teardown.own('geo watcher', options.geoDisabled ? null : await openServerGeo(options.geoipFiles, logger));
  const probeDurations = new ProbeDurations();
  // Workers never write overrides: the primary owns the state file.
  const health = new HealthMonitor({
    logger,
    stateFile: worker ? undefined : options.stateFile,
    onProbe: (check, result) => probeDurations.observe(check, result.latencyMs / 1000),
    probeSources: options.probeSources ?? [],
  });
  teardown.add('health monitor', () => health.stop());
  const fleet = teardown.own('fleet', options.fleet && !worker ? Fleet.open(options.fleet, logger) : null);
  // Member sets that health now makes possible are signed ahead, off the query path.
  const keys = options.keysDir === undefined ? null : { ...options.dnssec, keysDir: options.keysDir, logger: announce };
  const dnssec = teardown.own('DNSSEC keys', keys && (await startDnssec(keys, health, () => state.health)));
  let state: ServingState = servingState(EMPTY_CATALOG, {
    health: worker?.health ?? (options.healthDisabled ? overridesOnly(health) : health),
    geo,
    random: options.random ?? mathRandom,
    signing: dnssec,
  });

  const zones = new ZoneSet(announce);
  const allDown = new AllDownWatch(() => state, announce, logger);
  teardown.add('all-down watch', () => allDown.stop());
  health.onChange(() => allDown.reviewSoon());
  const loader = new ZoneLoader({
    zonesPath: options.zonesPath,
    wholeFolders: options.zonesFromFleet === true,
    // A fleet instance keeps a parser thread booted (~14 MB): a pushed revision is not kept waiting
    // for a thread to start, which no editor's burst of writes hides as the folder watch's does.
    keepParserWarm: options.keepParserWarm ?? options.zonesFromFleet === true,
    zones,
    probes: !options.healthDisabled && worker === undefined ? health : null,
    catalog: { current: () => state.catalog, swap: (catalog) => (state = servingState(catalog, state, state)) },
    allDown,
    announce,
    logger,
  });
  const follower = teardown.own('zone revision follower', followFleetZones(options, fleet?.connection ?? null, loader, logger));
  await startZones(loader, follower);
  collectStartupGarbage();
  // Before binding: a name another live instance holds refuses the start (InstanceNameTaken).
  const member =
    fleet && !options.healthDisabled
      ? await fleet.join({ health, logger, zones: () => zones.servedSerials(), zoneRevision: () => follower?.status().served?.number ?? null })
      : null;

  const queryLog = teardown.own('query log', options.queryLog ? new QueryLog(options.queryLog) : null);
  // Each process limits what it answers itself (with --workers the kernel spreads a flood over them).
  const rateLimiter = teardown.own('rate limiting', options.rateLimit ? startRateLimiting(options.rateLimit, logger) : null)?.limiter ?? null;
  const cookies = teardown.own('cookie clock', options.cookies === null ? null : startServerCookies(options.cookies))?.cookies ?? null;
  const query = newQueryCounters();
  const listener = newListenerCounters();
  const nsid = options.nsid ? Buffer.from(options.nsid, 'utf8') : null;
  const handler = createPacketHandler(() => state, { nsid }, query, queryLog, (error) => faults.note('answer', error), rateLimiter, cookies);
  const sockets = teardown.own('DNS sockets', new DnsSockets(handler, listener, { ...DEFAULT_TCP_LIMITS, ...options.tcp }, (kind, error) => faults.note(kind, error), options.io, announce, options.udpPortShared));
  await sockets.bind(options.listen, announce);

  const counters = serverCounters({ query, listener, geo, reloadErrors: () => loader.reloadErrors, rateLimiter, cookies, dnssec, settleListener: () => sockets.settleCounters() }, options.peers ?? null);
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
      dnssec,
    },
    options.admin ? { address: options.admin, token: options.adminToken ?? null } : null,
    logger,
  );
  // Fleet revisions arrive from the engine, never by editing the folder they were written to.
  if (options.watchZones !== false && !options.zonesFromFleet) {
    // A failed reload is logged and counted by the loader.
    const reloadOnChange = (): void => void loader.reload().catch(() => undefined);
    teardown.own('zone watcher', await watchZonePath(options.zonesPath, options.reloadDebounceMs ?? 100, reloadOnChange, logger));
  }
  ready = true;

  return {
    addresses: sockets.addresses,
    sockets,
    adopt: (socket) => sockets.adopt(socket),
    rateLimiter,
    counters: { query, listener, cookies: cookies?.counters ?? null },
    health,
    geo,
    fleet: fleet?.connection ?? null,
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
