/**
 * A routed name's answer: geo rules (or the name's fixed list) → the first pool that is up →
 * the members it answers with. Pure: health, client and randomness come in as arguments, and
 * the decision that explains the answer comes out with it (explain, metrics and tests read it).
 * What it remembers between answers lives in a RouteCache its caller owns, never in the
 * compiled zone or in module state.
 */
import type { ClientLocation } from '../geo/index.js';
import type { HealthView } from '../health/index.js';
import { namedRecordOf, type CompiledZone, type RoutedName, type ServedMember, type ServedPool } from '../zones/index.js';
import { orderByDistance, selectPoolList, type GeoRuleKind, type RoutingClient } from './geo-rules.js';
import type { RandomSource } from './random-source.js';
import { shuffled } from './shuffle.js';
import { weightedPick } from './weighted-pick.js';

export type RoutingOutcome = 'primary' | 'failover' | 'fail-open' | 'fail-closed' | 'no-members';

/** Why an answer is what it is. */
export interface RoutingDecision {
  rule: GeoRuleKind | 'pool' | 'failover';
  ruleKey: string | null;
  /** The ordered pool list the rule chose. */
  pools: readonly string[];
  /** The pool that answered, or null (fail-closed, or no members of the family). */
  pool: string | null;
  outcome: RoutingOutcome;
  /** ECS scope prefix length for this answer. */
  scope: number;
}

export interface RouteResult {
  /** Records to answer with, in answer order; empty means NODATA. */
  records: readonly Buffer[];
  decision: RoutingDecision;
}

/** A pool's members for one family as they stand at one health version. */
class MemberSet {
  /** Their records, owner pointing at the question. */
  readonly records: readonly Buffer[];
  /** Their records with the owner written out, when the routed name is a CNAME target. */
  readonly namedRecords: readonly Buffer[] | null;

  constructor(readonly members: readonly ServedMember[]) {
    this.records = members.map((m) => m.record);
    this.namedRecords = members.every((m) => m.namedRecord !== null) ? members.map(namedRecordOf) : null;
  }
}

interface UpState {
  version: number;
  up: MemberSet;
  answerable: MemberSet;
}

interface ResolvedPoolList {
  pools: readonly ServedPool[];
  poolNames: readonly string[];
  rule: GeoRuleKind;
  ruleKey: string | null;
  scope: number;
}

/**
 * Routing's working memory for one zone under one health view: each pool's members up now
 * (recomputed when the health version moves) and, per geo name, the pool list each client
 * location resolved to. Its owner (the zone's authority) builds it with the zone and drops it
 * with it; slots are the compile step's `ServedPool.slot` and `RoutedName.slot`.
 */
export class RouteCache {
  private readonly up4: (UpState | undefined)[];
  private readonly up6: (UpState | undefined)[];
  private readonly byLocation: (WeakMap<ClientLocation, ResolvedPoolList> | undefined)[];

  constructor(
    zone: Pick<CompiledZone, 'pools' | 'routedNameCount'>,
    readonly health: HealthView,
  ) {
    this.up4 = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.up6 = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.byLocation = new Array<WeakMap<ClientLocation, ResolvedPoolList> | undefined>(zone.routedNameCount).fill(undefined);
  }

  membersOf(pool: ServedPool, family: 4 | 6): UpState {
    const states = family === 4 ? this.up4 : this.up6;
    const health = this.health;
    let state = states[pool.slot];
    if (state !== undefined && state.version === health.version) return state;
    const up: ServedMember[] = [];
    const answerable: ServedMember[] = [];
    for (const member of family === 4 ? pool.members4 : pool.members6) {
      if (!member.enabled) continue;
      const status = health.status(member.probeKey, member.address);
      if (status === 'drained') continue;
      answerable.push(member);
      if (status === 'up') up.push(member);
    }
    state = { version: health.version, up: new MemberSet(up), answerable: new MemberSet(answerable) };
    states[pool.slot] = state;
    return state;
  }

  /** The memo of resolved pool lists by client location for one geo name. */
  locationsOf(routed: RoutedName): WeakMap<ClientLocation, ResolvedPoolList> {
    return (this.byLocation[routed.slot] ??= new WeakMap());
  }
}

function recordsOf(pool: ServedPool, set: MemberSet, named: boolean, random: RandomSource): readonly Buffer[] {
  // Unweighted (the common case): one shuffled copy of records built when health last moved.
  if (!pool.weighted) return shuffled(named ? set.namedRecords ?? set.members.map(namedRecordOf) : set.records, random);
  const picked = weightedPick(set.members, pool.maxAnswers, random);
  const out = new Array<Buffer>(picked.length);
  for (let i = 0; i < picked.length; i++) out[i] = named ? namedRecordOf(picked[i]!) : picked[i]!.record;
  return out;
}

export interface RouteInput {
  routed: RoutedName;
  family: 4 | 6;
  /** Only read for geo names; null answers from a geo name's default list. */
  client: RoutingClient | null;
  /** The zone's cache, which also carries the health view answers read. */
  cache: RouteCache;
  random: RandomSource;
  /** Write owner names out (the name is a CNAME target) instead of pointing at the question. */
  named: boolean;
}

// Geo names without network rules route as a pure function of the client's location, and the
// locator hands back the same location object for the same address: the resolved pool list is
// memoised per (name, location) in the zone's cache and dies with it or with the location (a
// zone reload, a database swap).
function resolvePoolList(routed: RoutedName, client: RoutingClient, cache: RouteCache): ResolvedPoolList {
  const rules = routed.geo!;
  const memo = rules.network.length === 0 ? cache.locationsOf(routed) : undefined;
  const hit = memo?.get(client.location);
  if (hit !== undefined) return hit;
  const choice = selectPoolList(rules, client);
  const resolved = resolveNames(routed, choice.pools, choice.rule, choice.ruleKey, choice.scope, choice.nearTo);
  memo?.set(client.location, resolved);
  return resolved;
}

/** Pool names of a rule → the served pools (nearest first when coordinates are given). */
function resolveNames(
  routed: RoutedName,
  names: readonly string[],
  rule: GeoRuleKind,
  ruleKey: string | null,
  scope: number,
  coordinates?: { lat: number; lon: number },
): ResolvedPoolList {
  let pools: readonly ServedPool[] = names.map((name) => routed.poolsByName.get(name)!);
  if (coordinates) pools = orderByDistance(pools, coordinates);
  return { pools, poolNames: pools.map((pool) => pool.name), rule, ruleKey, scope };
}

/** Routes one query for a routed name. */
export function routeName(input: RouteInput): RouteResult {
  const { routed, family, cache, random, named } = input;
  let pools: readonly ServedPool[];
  let rule: RoutingDecision['rule'];
  let ruleKey: string | null = null;
  let poolNames: readonly string[];
  let scope = 0;
  if (routed.geo !== null) {
    const client = input.client;
    const resolved = client ? resolvePoolList(routed, client, cache) : resolveNames(routed, routed.geo.default, 'default', null, 0);
    rule = resolved.rule;
    ruleKey = resolved.ruleKey;
    scope = resolved.scope;
    pools = resolved.pools;
    poolNames = resolved.poolNames;
  } else {
    pools = routed.pools;
    rule = routed.kind === 'pool' ? 'pool' : 'failover';
    poolNames = routed.poolNames;
  }

  let firstWithMembers: ServedPool | null = null;
  let firstAnswerable: MemberSet | null = null;
  for (let i = 0; i < pools.length; i++) {
    const pool = pools[i]!;
    const members = cache.membersOf(pool, family);
    if (members.up.members.length > 0) {
      return {
        records: recordsOf(pool, members.up, named, random),
        decision: { rule, ruleKey, pools: poolNames, pool: pool.name, outcome: i === 0 || firstWithMembers === null ? 'primary' : 'failover', scope },
      };
    }
    if (firstWithMembers === null && members.answerable.members.length > 0) {
      firstWithMembers = pool;
      firstAnswerable = members.answerable;
    }
  }
  if (firstWithMembers === null) {
    return { records: [], decision: { rule, ruleKey, pools: poolNames, pool: null, outcome: 'no-members', scope } };
  }
  if (routed.whenAllDown === 'fail-closed') {
    return { records: [], decision: { rule, ruleKey, pools: poolNames, pool: null, outcome: 'fail-closed', scope } };
  }
  // Every pool down: answer the first pool's members anyway (fail open, as gdnsd and Route 53 do).
  return {
    records: recordsOf(firstWithMembers, firstAnswerable!, named, random),
    decision: { rule, ruleKey, pools: poolNames, pool: firstWithMembers.name, outcome: 'fail-open', scope },
  };
}

/** True when some pool in the list has members of the family but none of them is up (the all-down watch, off the query path). */
export function isPoolListDown(pools: readonly ServedPool[], family: 4 | 6, health: HealthView): boolean {
  let hasMembers = false;
  for (const pool of pools) {
    for (const member of family === 4 ? pool.members4 : pool.members6) {
      if (!member.enabled) continue;
      const status = health.status(member.probeKey, member.address);
      if (status === 'up') return false;
      if (status !== 'drained') hasMembers = true;
    }
  }
  return hasMembers;
}
