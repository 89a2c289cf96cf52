/**
 * `meridian fleet status`: what the engine holds about the fleet, read without a running server:
 * the instances (name, version, last heartbeat, zones and serials), and every checked target with
 * each instance's latest view, the fleet's verdict by its quorum, and whether the fresh views disagree.
 */
import { connect } from '@nats-io/transport-node';
import type { Quorum } from '../health/index.js';
import { clientOptionsOf } from './connection.js';
import { openExistingBuckets, presenceIsLive, readAll, type PresenceValue, type ViewValue } from './fleet-store.js';
import type { FleetOptions } from './fleet-options.js';
import { decide, isFresh } from './quorum.js';

export interface FleetStatusReport {
  instances: {
    instance: string;
    version: string;
    startedAt: string;
    seenAt: string;
    live: boolean;
    zones: readonly { zone: string; serial: number }[];
    /** The fleet zone revision it serves; null when it reads its own files. */
    zoneRevision: number | null;
  }[];
  targets: {
    probeKey: string;
    address: string;
    check: string;
    quorum: string;
    /** By the quorum over the fresh views; null when no view is fresh. */
    verdict: 'up' | 'down' | null;
    disagree: boolean;
    views: { instance: string; status: 'up' | 'down'; at: string; fresh: boolean; reason: string | null }[];
  }[];
}

export async function readFleetStatus(options: FleetOptions, now = Date.now()): Promise<FleetStatusReport> {
  const connection = await connect({ ...clientOptionsOf(options), name: 'meridian fleet status', reconnect: false });
  try {
    const buckets = await openExistingBuckets(connection);
    const presences = await readAll<PresenceValue>(buckets.instances, 'instance.>');
    const views = await readAll<ViewValue>(buckets.views, 'view.>');
    return summarise(presences, views, now);
  } finally {
    await connection.close();
  }
}

export function summarise(presences: readonly PresenceValue[], views: readonly ViewValue[], now: number): FleetStatusReport {
  const byTarget = new Map<string, ViewValue[]>();
  for (const view of views) {
    const list = byTarget.get(view.probeKey) ?? [];
    list.push(view);
    byTarget.set(view.probeKey, list);
  }
  const targets = [...byTarget.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([probeKey, list]) => {
      const sorted = [...list].sort((a, b) => (a.instance < b.instance ? -1 : 1));
      const fresh = sorted.filter((view) => isFresh(view, now));
      const quorumText = sorted[0]!.quorum;
      const quorum: Quorum = /^\d+$/.test(quorumText) ? Number(quorumText) : (quorumText as Quorum);
      return {
        probeKey,
        address: sorted[0]!.address,
        check: sorted[0]!.check,
        quorum: quorumText,
        verdict: fresh.length === 0 ? null : decide(quorum, fresh).status,
        disagree: fresh.some((view) => view.status !== fresh[0]!.status),
        views: sorted.map((view) => ({ instance: view.instance, status: view.status, at: new Date(view.at).toISOString(), fresh: isFresh(view, now), reason: view.reason })),
      };
    });
  return {
    instances: [...presences]
      .sort((a, b) => (a.instance < b.instance ? -1 : 1))
      .map((p) => ({ instance: p.instance, version: p.version, startedAt: new Date(p.startedAt).toISOString(), seenAt: new Date(p.seenAt).toISOString(), live: presenceIsLive(p, now), zones: p.zones, zoneRevision: p.zoneRevision ?? null })),
    targets,
  };
}

/** The report as `meridian fleet status` prints it. */
export function formatFleetStatus(report: FleetStatusReport, now = Date.now()): string {
  const lines: string[] = ['instances:'];
  if (report.instances.length === 0) lines.push('  (none)');
  for (const i of report.instances) {
    const ago = Math.max(0, Math.round((now - Date.parse(i.seenAt)) / 100) / 10);
    const zones = `${i.zoneRevision !== null ? `revision ${i.zoneRevision}: ` : ''}${i.zones.map((z) => `${z.zone} ${z.serial}`).join(', ') || 'no zones'}`;
    lines.push(`  ${i.instance.padEnd(16)} ${i.version.padEnd(8)} ${i.live ? `seen ${ago} s ago` : `gone (last seen ${i.seenAt})`}  ${zones}`);
  }
  lines.push('members:');
  if (report.targets.length === 0) lines.push('  (no views published)');
  for (const target of report.targets) {
    const flag = target.disagree ? '  DISAGREE' : '';
    lines.push(`  ${target.address} check ${target.check} (quorum ${target.quorum}): fleet ${target.verdict ?? 'no fresh view'}${flag}`);
    for (const view of target.views) {
      lines.push(`      ${view.instance.padEnd(16)} ${view.status.padEnd(5)} ${view.fresh ? '' : '(stale) '}${view.reason ?? ''}`.trimEnd());
    }
  }
  return `${lines.join('\n')}\n`;
}
