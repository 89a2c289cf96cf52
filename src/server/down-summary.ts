/**
 * One log line for the members found down by a round of first probes (start-up, or members new
 * in a reload) and the names whose every pool is down then, instead of a warning per member and
 * per pool list: a newcomer starting the sample zone reads one line, and the details stay at
 * debug level and in /status.
 */
import type { TargetSnapshot } from '../health/index.js';

/** A name whose whole pool list is down for one address family. */
export interface AllDownList {
  readonly zone: string;
  readonly name: string;
  readonly family: 4 | 6;
  readonly pools: readonly string[];
  readonly whenAllDown: string;
}

export interface DownSummary {
  readonly level: 'info' | 'warn';
  readonly fields: { down: number; members: number; pools: string[]; names?: string[] };
  readonly msg: string;
}

/** How many pools and names a summary names before "and N more". */
const LISTED = 8;

function listed(items: readonly string[]): string {
  return items.length <= LISTED ? items.join(', ') : `${items.slice(0, LISTED).join(', ')} and ${items.length - LISTED} more`;
}

/**
 * The summary of `targets` (the ones just probed for the first time). A member counts once per
 * pool however many zones list it; it is down when its probe target is.
 */
export function summariseFirstProbes(targets: readonly TargetSnapshot[], allDown: readonly AllDownList[]): DownSummary {
  const members = new Set<string>();
  const downByPool = new Map<string, Set<string>>();
  for (const target of targets) {
    for (const member of target.members) {
      members.add(`${member.zone} ${member.pool} ${member.address}`);
      if (target.status !== 'down') continue;
      let pool = downByPool.get(member.pool);
      if (pool === undefined) downByPool.set(member.pool, (pool = new Set()));
      pool.add(`${member.zone} ${member.address}`);
    }
  }
  const down = [...downByPool.values()].reduce((sum, pool) => sum + pool.size, 0);
  const pools = [...downByPool.keys()].sort();
  if (down === 0) return { level: 'info', fields: { down: 0, members: members.size, pools: [] }, msg: `first probes: all ${members.size} checked members are up` };
  // Per name, not per pool list and family: a geo name has one list per rule.
  const names = new Map<string, string>();
  for (const list of allDown) names.set(list.name, list.whenAllDown);
  const sortedNames = [...names.keys()].sort();
  const nameTexts = sortedNames.map((name) => (names.get(name) === 'fail-closed' ? `${name} (fail-closed: NODATA)` : name));
  const poolTexts = pools.map((pool) => `${pool} (${downByPool.get(pool)!.size})`);
  let msg = `first probes: ${down} of ${members.size} checked members are down, in ${listed(poolTexts)}`;
  if (nameTexts.length > 0) {
    msg += `; every pool is down for ${listed(nameTexts)}`;
    if ([...names.values()].some((policy) => policy !== 'fail-closed')) msg += ', answered from their first pool anyway (fail-open)';
  }
  msg += '; details in /status and at --log-level debug';
  return { level: 'warn', fields: { down, members: members.size, pools, ...(sortedNames.length ? { names: sortedNames } : {}) }, msg };
}
