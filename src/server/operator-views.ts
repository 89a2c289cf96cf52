/**
 * What an operator sees of one server: the metrics registry and the /status document over its
 * parts, and the admin endpoint serving them (when --admin is given).
 */
import { startAdminServer, statusReport, UnknownMemberError, type AdminServer, type AdminSources, type StatusReport } from '../admin/index.js';
import type { ServingState } from '../answer/index.js';
import { formatListenAddress, type ListenAddress } from '../config/index.js';
import type { DnssecKeeper } from '../dnssec/index.js';
import { explainAnswer } from '../explain/index.js';
import { FLEET_CONNECTION_STATES, type FleetMember } from '../fleet/index.js';
import type { GeoLocatorHandle } from '../geo/index.js';
import { canonicalAddress, type HealthMonitor } from '../health/index.js';
import { createMetrics, type CounterTotals, type FleetMetrics, type Logger, type ProbeDurations } from '../telemetry/index.js';
import type { ZoneRevisionStatus } from '../zone-revisions/index.js';
import type { DnsSockets } from './dns-sockets.js';
import type { Teardown } from './teardown.js';
import type { ZoneSet } from './zone-set.js';
import { memberAddresses, memberStates, servedPools } from './zone-index.js';

export interface ServerParts {
  serving: () => ServingState;
  health: HealthMonitor;
  zones: ZoneSet;
  geo: GeoLocatorHandle | null;
  sockets: DnsSockets;
  counters: CounterTotals;
  probeDurations: ProbeDurations;
  /** Started when `close()` or a failed start began: the server no longer counts as live. */
  teardown: Teardown;
  /** Zones loaded, first probes done, and (cluster primary) every worker answering. */
  ready: () => boolean;
  /** With --zones-from-fleet: the follower's revision status. */
  zoneRevision?: (() => ZoneRevisionStatus) | undefined;
  /** This instance in the fleet (--fleet); null alone. */
  fleet: FleetMember | null;
  /** The DNSSEC keys and signers (--keys); null when nothing is signed. */
  dnssec: DnssecKeeper | null;
}

export interface OperatorViews {
  status(): StatusReport;
  adminAddress: ListenAddress | null;
}

/** The numbers the metrics read from the follower's status. */
function revisionNumbers(status: () => ZoneRevisionStatus): () => { served: number | null; newest: number | null; refusals: number } {
  return () => {
    const { served, newest, refusals } = status();
    return { served: served?.number ?? null, newest, refusals };
  };
}

export async function startOperatorViews(
  parts: ServerParts,
  admin: { address: ListenAddress; token: string | null } | null,
  logger: Logger,
): Promise<OperatorViews> {
  const { serving, health, zones, geo, sockets, counters, teardown } = parts;
  const registry = createMetrics(
    {
      counters,
      probes: () => health.counters.probes,
      healthChanges: () => health.counters.stateChanges,
      healthScheduler: () => health.counters,
      members: () => memberStates(serving().catalog, serving().health),
      zones: () => zones.files().map((z) => ({ zone: z.origin ?? '', file: z.file, ok: z.ok, serial: z.serial })),
      zoneReloads: () => zones.reloads,
      udpIo: sockets.io,
      zoneRevision: parts.zoneRevision && revisionNumbers(parts.zoneRevision),
      ...(parts.fleet === null ? {} : { fleet: () => fleetMetrics(parts.fleet!) }),
      ...(parts.dnssec === null ? {} : { dnssec: () => parts.dnssec!.report().zones }),
    },
    parts.probeDurations,
  );
  const startedAt = new Date().toISOString();
  const status = (): StatusReport =>
    statusReport({
      ready: parts.ready(),
      startedAt,
      listen: sockets.addresses.map(formatListenAddress),
      io: sockets.io,
      zones: zones.files(),
      geo: geo?.describe() ?? [],
      pools: servedPools(serving().catalog),
      health: serving().health,
      snapshot: health.snapshot(),
      overrideOf: (address) => health.overrideOf(address),
      zoneRevision: parts.zoneRevision?.() ?? null,
      ...(parts.fleet === null ? {} : { fleet: parts.fleet.report() }),
      ...(parts.dnssec === null ? {} : { dnssec: parts.dnssec.report() }),
    });
  if (admin === null) return { status, adminAddress: null };

  const sources: AdminSources = {
    registry,
    beforeScrape: () => counters.gather(),
    status,
    live: () => !teardown.started,
    ready: () => parts.ready() && !teardown.started,
    overrides: () => health.snapshot().overrides,
    setOverride: (address, override, { force }) => {
      const canonical = canonicalAddress(address);
      // A bad address is the override store's to refuse, with its own message.
      if (override !== null && !force && canonical !== null) {
        const known = memberAddresses(serving().catalog);
        if (!known.includes(canonical)) return Promise.reject(new UnknownMemberError(address, known));
      }
      return health.setOverride(address, override);
    },
    recentChanges: () => health.recentChanges(),
    explain: (request) => explainAnswer(request, { serving: serving(), snapshot: health.snapshot(), geo, fleetViews: parts.fleet === null ? undefined : (probeKey) => parts.fleet!.viewsOf(probeKey) }),
  };
  const server: AdminServer = await startAdminServer(admin.address, admin.token, sources, logger);
  teardown.add('admin endpoint', () => server.close());
  logger.info({ address: formatListenAddress(server.address) }, `admin HTTP on ${formatListenAddress(server.address)}`);
  return { status, adminAddress: server.address };
}

function fleetMetrics(fleet: FleetMember): FleetMetrics {
  const report = fleet.report();
  return {
    connection: report.connection,
    connectionStates: [...FLEET_CONNECTION_STATES, 'refused'],
    alone: fleet.alone !== null,
    disagreements: fleet.disagreements,
    viewsPublished: fleet.counters.viewsPublished,
    viewsReceived: fleet.counters.viewsReceived,
    aloneTransitions: fleet.counters.aloneTransitions,
  };
}
