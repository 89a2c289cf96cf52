/**
 * The /status document: readiness, listen addresses and their UDP I/O, each zone file's state with its diagnostics,
 * the geo databases, every served pool with its members' health and probes, and the overrides.
 * Assembled from views handed in, when /status is asked for.
 */
import { MemberViews } from '../explain/index.js';
import type { HealthSnapshot, HealthView, OverrideState } from '../health/index.js';
import type { ZoneRevisionStatus } from '../zone-revisions/index.js';
import type { Diagnostic, ServedPool } from '../zones/index.js';
import { formatDiagnostic } from '../zones/index.js';

/** The outcome of loading one zone file (kept by the server's ZoneSet), as /status shows it. */
export interface ZoneFileState {
  file: string;
  origin: string | null;
  serial: number | null;
  ok: boolean;
  diagnostics: readonly Diagnostic[];
  loadedAt: string;
}

export interface StatusReport {
  ready: boolean;
  startedAt: string;
  listen: string[];
  /** How UDP is read and answered on `listen`: the native batched module (recvmmsg/sendmmsg) or node:dgram. */
  io: 'batched' | 'dgram';
  zones: (ZoneFileState & { diagnosticsText: string[] })[];
  geo: unknown[];
  pools: {
    zone: string;
    name: string;
    pool: string;
    check: string | null;
    members: { address: string; family: 4 | 6 | null; cname: string | null; enabled: boolean; status: string; override: string | null; probe: unknown }[];
  }[];
  overrides: unknown;
  /** With --zones-from-fleet: the fleet zone revision served, the newest seen, the last refused. */
  zoneRevision?: ZoneRevisionStatus;
  /** With --fleet: this instance in the fleet (connection, deciding alone or not, each target's view per instance). */
  fleet?: unknown;
  /** With --keys: each zone signed or not, its keys, DS, signature window, next renewal (src/dnssec DnssecKeeper.report()). */
  dnssec?: unknown;
}

export interface StatusSources {
  ready: boolean;
  startedAt: string;
  listen: string[];
  io: 'batched' | 'dgram';
  zones: readonly ZoneFileState[];
  geo: unknown[];
  /** Every pool of every routed name. */
  pools: Iterable<{ zone: string; name: string; pool: ServedPool }>;
  /** The health the answers use (probes, a cluster replica, or overrides alone). */
  health: HealthView;
  /** The probe state and overrides of this process's monitor. */
  snapshot: HealthSnapshot;
  overrideOf(address: string): OverrideState | null;
  zoneRevision?: ZoneRevisionStatus | null;
  /** With --fleet: the fleet's report (src/fleet FleetMember.report()). */
  fleet?: unknown;
  /** With --keys: the DNSSEC report (src/dnssec DnssecKeeper.report()). */
  dnssec?: unknown;
}

export function statusReport(sources: StatusSources): StatusReport {
  const { snapshot } = sources;
  const views = new MemberViews(sources.health, snapshot);
  const pools: StatusReport['pools'] = [];
  for (const { zone, name, pool } of sources.pools) {
    pools.push({
      zone,
      name,
      pool: pool.name,
      check: pool.check?.name ?? null,
      members: views.of(pool).map(({ member: m, status, target }) => ({
        address: m.address,
        family: m.family,
        cname: m.cname,
        enabled: m.enabled,
        status,
        override: sources.overrideOf(m.address) ?? null,
        probe: target
          ? { target: target.address, lastProbeAt: target.lastProbeAt, result: target.lastResult, reason: target.reason, latencyMs: target.latencyMs, since: target.since, own: target.own, verdict: target.verdict }
          : null,
      })),
    });
  }
  return {
    ready: sources.ready,
    startedAt: sources.startedAt,
    listen: sources.listen,
    io: sources.io,
    zones: sources.zones.map((z) => ({ ...z, diagnosticsText: z.diagnostics.map(formatDiagnostic) })),
    geo: sources.geo,
    pools,
    overrides: snapshot.overrides,
    ...(sources.zoneRevision ? { zoneRevision: sources.zoneRevision } : {}),
    ...(sources.fleet === undefined ? {} : { fleet: sources.fleet }),
    ...(sources.dnssec === undefined ? {} : { dnssec: sources.dnssec }),
  };
}
