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
import { Shuffler } from './shuffle.js';
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

const NONE: readonly Buffer[] = [];

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
  rule: RoutingDecision['rule'];
  ruleKey: string | null;
  scope: number;
  /** The decisions answers from this list carry, made once each (decisionOf). */
  decisions: (RoutingDecision | undefined)[];
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
  /** Per routed name: its fixed list (pool and failover names) or its geo default list. */
  private readonly fixedLists: (ResolvedPoolList | undefined)[];
  /** The shuffled copies of this zone's answers (routed and static records alike). */
  readonly shuffler = new Shuffler();
  /** What routeName returns: rewritten by every route through this cache. */
  readonly result: RouteResult = { records: NONE, decision: undefined as unknown as RoutingDecision };

  constructor(
    zone: Pick<CompiledZone, 'pools' | 'routedNameCount'>,
    readonly health: HealthView,
  ) {
    this.up4 = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.up6 = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.byLocation = new Array<WeakMap<ClientLocation, ResolvedPoolList> | undefined>(zone.routedNameCount).fill(undefined);
    this.fixedLists = new Array<ResolvedPoolList | undefined>(zone.routedNameCount).fill(undefined);
  }

  /** The list a name without geo rules answers from, or a geo name's default list. */
  fixedListOf(routed: RoutedName): ResolvedPoolList {
    let list = this.fixedLists[routed.slot];
    if (list === undefined) {
      if (routed.geo !== null) list = resolveNames(routed, routed.geo.default, 'default', null, 0);
      else list = { pools: routed.pools, poolNames: routed.poolNames, rule: routed.kind === 'pool' ? 'pool' : 'failover', ruleKey: null, scope: 0, decisions: [] };
      this.fixedLists[routed.slot] = list;
    }
    return list;
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

function recordsOf(pool: ServedPool, set: MemberSet, named: boolean, random: RandomSource, shuffler: Shuffler): readonly Buffer[] {
  // Unweighted (the common case): a shuffled copy of the records built when health last moved.
  if (!pool.weighted) return shuffler.shuffled(named ? set.namedRecords ?? set.members.map(namedRecordOf) : set.records, random);
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
  return { pools, poolNames: pools.map((pool) => pool.name), rule, ruleKey, scope, decisions: [] };
}

/**
 * The decision of an answer from pool `index` of `list` (ignored for 'no-members' and
 * 'fail-closed'), made the first time and kept with the list: decisions are read, never changed.
 */
function decisionOf(list: ResolvedPoolList, index: number, outcome: RoutingOutcome): RoutingDecision {
  const n = list.pools.length;
  const slot = outcome === 'primary' ? index : outcome === 'failover' ? n + index : outcome === 'fail-open' ? 2 * n + index : outcome === 'fail-closed' ? 3 * n : 3 * n + 1;
  let decision = list.decisions[slot];
  if (decision === undefined) {
    const pool = outcome === 'fail-closed' || outcome === 'no-members' ? null : list.pools[index]!.name;
    decision = { rule: list.rule, ruleKey: list.ruleKey, pools: list.poolNames, pool, outcome, scope: list.scope };
    list.decisions[slot] = decision;
  }
  return decision;
}

/**
 * Routes one query for a routed name. The result is the cache's own object, rewritten by the next
 * route through the same cache (its records may be the cache's shuffled copy): read it before
 * routing again. Decisions are kept per pool list and may be kept by anyone.
 */
export function routeName(input: RouteInput): RouteResult {
  return route(input.routed, input.family, input.client, input.cache, input.random, input.named);
}

/** routeName with its inputs as arguments: the query path's form, with no object to build. */
export function route(routed: RoutedName, family: 4 | 6, client: RoutingClient | null, cache: RouteCache, random: RandomSource, named: boolean): RouteResult {
  const list = routed.geo !== null && client !== null ? resolvePoolList(routed, client, cache) : cache.fixedListOf(routed);
  const pools = list.pools;
  const result = cache.result;
  let firstWithMembers = -1;
  let firstAnswerable: MemberSet | null = null;
  for (let i = 0; i < pools.length; i++) {
    const pool = pools[i]!;
    const members = cache.membersOf(pool, family);
    if (members.up.members.length > 0) {
      result.records = recordsOf(pool, members.up, named, random, cache.shuffler);
      result.decision = decisionOf(list, i, i === 0 || firstWithMembers === -1 ? 'primary' : 'failover');
      return result;
    }
    if (firstWithMembers === -1 && members.answerable.members.length > 0) {
      firstWithMembers = i;
      firstAnswerable = members.answerable;
    }
  }
  if (firstWithMembers === -1) {
    result.records = NONE;
    result.decision = decisionOf(list, 0, 'no-members');
  } else if (routed.whenAllDown === 'fail-closed') {
    result.records = NONE;
    result.decision = decisionOf(list, 0, 'fail-closed');
  } else {
    // Every pool down: answer the first pool's members anyway (fail open, as gdnsd and Route 53 do).
    result.records = recordsOf(pools[firstWithMembers]!, firstAnswerable!, named, random, cache.shuffler);
    result.decision = decisionOf(list, firstWithMembers, 'fail-open');
  }
  return result;
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
