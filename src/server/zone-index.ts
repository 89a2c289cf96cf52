/**
 * What the off-path parts read from the compiled zones' own index (built by the compile step):
 * the probe targets (health), and every served pool with its name (status and metrics). The
 * all-down watch reads each zone's `routedLists` directly. Nothing here walks a zone's nodes.
 */
import { shownStatus } from '../explain/index.js';
import type { HealthView, TargetSpec } from '../health/index.js';
import type { ServedPool, ZoneCatalog } from '../zones/index.js';

/** Every (probe address, check) pair the served zones use, with the members that depend on it. */
export function probeTargets(catalog: ZoneCatalog): TargetSpec[] {
  const targets = new Map<string, TargetSpec>();
  for (const zone of catalog.zones) {
    for (const target of zone.probeTargets) {
      const known = targets.get(target.probeKey);
      targets.set(target.probeKey, known === undefined ? target : { ...known, members: [...known.members, ...target.members] });
    }
  }
  return [...targets.values()];
}

/** A pool as a routed name serves it (a pool used by several names is listed once per name). */
export interface NamedPool {
  zone: string;
  name: string;
  pool: ServedPool;
}

/** Every pool of every routed name, zone by zone, name by name. */
export function* servedPools(catalog: ZoneCatalog): Generator<NamedPool> {
  for (const zone of catalog.zones) {
    for (const pool of zone.pools) yield { zone: zone.origin, name: pool.owner, pool };
  }
}

/**
 * Every member address of the served pools (a name member's probe address), once each, sorted:
 * what an override may name. A name member without a probe address has none to override.
 */
export function memberAddresses(catalog: ZoneCatalog): string[] {
  const addresses = new Set<string>();
  for (const { pool } of servedPools(catalog)) for (const m of pool.members) if (m.address !== m.cname) addresses.add(m.address);
  return [...addresses].sort();
}

/** Whether each member counts as up, once per (zone, pool, member), for the member-up gauge. */
export function* memberStates(catalog: ZoneCatalog, health: HealthView): Generator<{ zone: string; pool: string; member: string; up: boolean }> {
  const seen = new Set<string>();
  for (const { zone, pool } of servedPools(catalog)) {
    for (const m of pool.members) {
      const key = `${zone} ${pool.name} ${m.address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      yield { zone, pool: pool.name, member: m.address, up: shownStatus(m, health) === 'up' };
    }
  }
}
