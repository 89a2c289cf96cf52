/**
 * What the off-path parts need from the compiled zones, each behind one small function: the
 * probe targets (health), the routed pool lists (the all-down watch), and every served pool with
 * its name (status and metrics). These are the only walks over a zone's nodes outside the query
 * path; once compiled zones carry these lists themselves, these functions read them instead.
 */
import type { HealthView, TargetSpec } from '../health/index.js';
import { poolListsOf } from '../routing/index.js';
import type { CompiledZone, ServedPool, WhenAllDown, ZoneCatalog } from '../zones/index.js';
import { runAtOnce, runInSlices } from './run-in-slices.js';

type TargetMember = TargetSpec['members'][number];
type ZoneTargets = ReadonlyMap<string, { address: string; check: TargetSpec['check']; members: readonly TargetMember[] }>;

// Both walks below visit every name of every zone; a reload of one 10,000-name zone would redo
// them for all the zones it did not touch, in one go between answers. Each zone's share is
// worked out once, when the zone is first seen, and kept with it.
const targetsByZone = new WeakMap<CompiledZone, ZoneTargets>();
const routedListsByZone = new WeakMap<CompiledZone, readonly RoutedList[]>();

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
  if (targets === undefined) {
    targets = runAtOnce(zoneTargetSteps(zone));
    targetsByZone.set(zone, targets);
  }
  return targets;
}

/** Works out a freshly compiled zone's probe targets and routed lists in slices between answers. */
export async function prepareZoneAsync(zone: CompiledZone): Promise<void> {
  // A turn between the compile's last slice and this work's first.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const targets = await runInSlices(zoneTargetSteps(zone));
  if (targets === undefined) return;
  targetsByZone.set(zone, targets);
  routedLists(zone);
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

/** One pool list a routed name can answer from (a geo name has one per rule). */
export interface RoutedList {
  zone: string;
  name: string;
  pools: readonly ServedPool[];
  poolNames: string[];
  whenAllDown: WhenAllDown;
  /** `name family [pools]`: one all-down episode per key. */
  keys: { 4: string; 6: string };
}

/** The pool lists of every routed name of a zone. */
export function routedLists(zone: CompiledZone): readonly RoutedList[] {
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

/** A pool as a routed name serves it (a pool used by several names is listed once per name). */
export interface NamedPool {
  zone: string;
  name: string;
  pool: ServedPool;
}

/** Every pool of every routed name, zone by zone, name by name. */
export function* servedPools(catalog: ZoneCatalog): Generator<NamedPool> {
  for (const zone of catalog.zones) {
    for (const node of zone.nodes.values()) {
      for (const pool of node.routed?.poolsByName.values() ?? []) yield { zone: zone.origin, name: node.name, pool };
    }
  }
}

/** Whether each member counts as up, once per (zone, pool, member), for the member-up gauge. */
export function* memberStates(catalog: ZoneCatalog, health: HealthView): Generator<{ zone: string; pool: string; member: string; up: boolean }> {
  const seen = new Set<string>();
  for (const { zone, pool } of servedPools(catalog)) {
    for (const m of [...pool.members4, ...pool.members6]) {
      const key = `${zone} ${pool.name} ${m.address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      yield { zone, pool: pool.name, member: m.address, up: m.enabled && health.status(m.probeKey, m.address) === 'up' };
    }
  }
}
