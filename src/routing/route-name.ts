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

export type RoutingOutcome = 'primary' | 'failover' | 'fail-open' | 'fail-closed' | 'no-members';

/**
 * Why an answer carries the degraded TTL: a pool after the first answered, every pool was down
 * (fail-open), or the first pool answered with some enabled member down or drained.
 */
export type DegradedReason = 'later-pool' | 'fail-open' | 'members-withdrawn';

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
  /** Whether the answering pool holds names (its answer is one CNAME). */
  names: boolean;
  /** The TTL of the answer's records: the name's `ttl`, or its degraded TTL; null when nothing is answered. */
  ttl: number | null;
  /** Why the degraded TTL applies; null when the full TTL does (or nothing is answered). */
  degraded: DegradedReason | null;
}

export interface RouteResult {
  /** Records to answer with, in answer order; empty means NODATA. From a pool of names, its one CNAME. */
  records: readonly Buffer[];
  decision: RoutingDecision;
  /** The CNAME target answered (a name member drawn by weight), or null for addresses. */
  cname: string | null;
}

const NONE: readonly Buffer[] = [];

/** A pool's members for one family (or its names) as they stand at one health version. */
class MemberSet {
  /** Their records, owner pointing at the question. */
  readonly records: readonly Buffer[];
  /** Their records with the owner written out, when the routed name is a CNAME target. */
  readonly namedRecords: readonly Buffer[] | null;
  /** The same two with the degraded TTL. */
  readonly degradedRecords: readonly Buffer[];
  readonly degradedNamedRecords: readonly Buffer[] | null;
  readonly totalWeight: number;

  constructor(readonly members: readonly ServedMember[]) {
    this.records = members.map((m) => m.record);
    this.namedRecords = members.every((m) => m.namedRecord !== null) ? members.map((m) => namedRecordOf(m)) : null;
    this.degradedRecords = members.every((m) => m.degradedRecord === m.record) ? this.records : members.map((m) => m.degradedRecord);
    this.degradedNamedRecords = members.every((m) => m.degradedNamedRecord !== null) ? members.map((m) => namedRecordOf(m, true)) : null;
    let total = 0;
    for (const m of members) total += m.weight;
    this.totalWeight = total;
  }
}

interface UpState {
  version: number;
  up: MemberSet;
  answerable: MemberSet;
  /** Members enabled in the zone file (up, down or drained). */
  enabled: number;
  /** Every enabled member is up: nothing withdrawn, so the pool answers at full TTL. */
  complete: boolean;
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
  private readonly upNames: (UpState | undefined)[];
  private readonly byLocation: (WeakMap<ClientLocation, ResolvedPoolList> | undefined)[];
  /** Per geo name with network rules: the pool list each client address resolved to. */
  private readonly byAddress: (Map<string, AddressResolved> | undefined)[];
  /** Per routed name: its fixed list (pool and failover names) or its geo default list. */
  private readonly fixedLists: (ResolvedPoolList | undefined)[];
  /** The shuffled copies of this zone's answers (routed and static records alike). */
  readonly shuffler = new Shuffler();
  /** What routeName returns: rewritten by every route through this cache. */
  readonly result: RouteResult = { records: NONE, decision: undefined as unknown as RoutingDecision, cname: null };

  constructor(
    zone: Pick<CompiledZone, 'pools' | 'routedNameCount'>,
    readonly health: HealthView,
  ) {
    this.up4 = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.up6 = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.upNames = new Array<UpState | undefined>(zone.pools.length).fill(undefined);
    this.byLocation = new Array<WeakMap<ClientLocation, ResolvedPoolList> | undefined>(zone.routedNameCount).fill(undefined);
    this.byAddress = new Array<Map<string, AddressResolved> | undefined>(zone.routedNameCount).fill(undefined);
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

  /** A pool's members of the family as health stands now; a pool of names gives its names, whatever the family. */
  membersOf(pool: ServedPool, family: 4 | 6): UpState {
    const holdsNames = pool.names.length > 0;
    const states = holdsNames ? this.upNames : family === 4 ? this.up4 : this.up6;
    const health = this.health;
    let state = states[pool.slot];
    if (state !== undefined && state.version === health.version) return state;
    const up: ServedMember[] = [];
    const answerable: ServedMember[] = [];
    let enabled = 0;
    for (const member of holdsNames ? pool.names : family === 4 ? pool.members4 : pool.members6) {
      if (!member.enabled) continue;
      enabled++;
      const status = health.status(member.probeKey, member.address);
      if (status === 'drained') continue;
      answerable.push(member);
      if (status === 'up') up.push(member);
    }
    state = { version: health.version, up: new MemberSet(up), answerable: new MemberSet(answerable), enabled, complete: up.length === enabled };
    states[pool.slot] = state;
    return state;
  }

  /** The memo of resolved pool lists by client location for one geo name. */
  locationsOf(routed: RoutedName): WeakMap<ClientLocation, ResolvedPoolList> {
    return (this.byLocation[routed.slot] ??= new WeakMap());
  }

  /** The memo of resolved pool lists by client address for one geo name with network rules (emptied when full). */
  addressesOf(routed: RoutedName): Map<string, AddressResolved> {
    let memo = this.byAddress[routed.slot];
    if (memo === undefined || memo.size >= ADDRESS_MEMO_ENTRIES) this.byAddress[routed.slot] = memo = new Map();
    return memo;
  }
}

function recordsOf(pool: ServedPool, set: MemberSet, named: boolean, degraded: boolean, random: RandomSource, shuffler: Shuffler): readonly Buffer[] {
  // Unweighted (the common case): a shuffled copy of the records built when health last moved.
  if (!pool.weighted) {
    const built = degraded ? (named ? set.degradedNamedRecords : set.degradedRecords) : named ? set.namedRecords : set.records;
    return shuffler.shuffled(built ?? set.members.map((m) => namedRecordOf(m, degraded)), random);
  }
  return shuffler.drawWeighted(set.members, pool.maxAnswers, random, weightedRecordOf, (named ? NAMED : 0) | (degraded ? DEGRADED : 0));
}

const NAMED = 1;
const DEGRADED = 2;
/** A drawn member's record in the form asked for (`mode`: NAMED | DEGRADED bits; one function, no closure per answer). */
function weightedRecordOf(member: ServedMember, mode: number): Buffer {
  const degraded = (mode & DEGRADED) !== 0;
  return (mode & NAMED) !== 0 ? namedRecordOf(member, degraded) : degraded ? member.degradedRecord : member.record;
}

/** One name member of `set`, drawn by weight, without allocating. */
function pickName(set: MemberSet, random: RandomSource): ServedMember {
  const members = set.members;
  let target = random.next() * set.totalWeight;
  for (let i = 0; i < members.length - 1; i++) {
    target -= members[i]!.weight;
    if (target < 0) return members[i]!;
  }
  return members[members.length - 1]!;
}

/** A name member's CNAME as a whole answer, in the form asked for (compiled, never built per query). */
function cnameAnswer(member: ServedMember, named: boolean, degraded: boolean): readonly Buffer[] {
  const alone = member.alone!;
  if (!named) return degraded ? alone.degraded : alone.full;
  return (degraded ? alone.degradedNamed : alone.fullNamed) ?? [namedRecordOf(member, degraded)];
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

/** Client addresses remembered per geo name with network rules, before the memo starts again. */
const ADDRESS_MEMO_ENTRIES = 4096;

/** A pool list resolved for one client address, and the location it was resolved with. */
interface AddressResolved {
  location: ClientLocation;
  list: ResolvedPoolList;
}

// Geo names without network rules route as a pure function of the client's location, and the
// locator hands back the same location object for the same address: the resolved pool list is
// memoised per (name, location) in the zone's cache and dies with it or with the location (a
// zone reload, a database swap). With network rules the address decides too: the list is
// memoised per (name, address), and holds while the locator still gives that address the same
// location object (a database swap gives it another).
function resolvePoolList(routed: RoutedName, client: RoutingClient, cache: RouteCache): ResolvedPoolList {
  const rules = routed.geo!;
  if (rules.network.length > 0) {
    const byAddress = cache.addressesOf(routed);
    const hit = byAddress.get(client.address);
    if (hit !== undefined && hit.location === client.location) return hit.list;
    const list = resolveChoice(routed, client);
    byAddress.set(client.address, { location: client.location, list });
    return list;
  }
  const memo = cache.locationsOf(routed);
  const hit = memo.get(client.location);
  if (hit !== undefined) return hit;
  const list = resolveChoice(routed, client);
  memo.set(client.location, list);
  return list;
}

function resolveChoice(routed: RoutedName, client: RoutingClient): ResolvedPoolList {
  const choice = selectPoolList(routed.geo!, client);
  return resolveNames(routed, choice.pools, choice.rule, choice.ruleKey, choice.scope, choice.nearTo);
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

/** The degraded reasons in the order of their decision slots (null first: the full TTL). */
const DEGRADED_SLOTS: readonly (DegradedReason | null)[] = [null, 'later-pool', 'fail-open', 'members-withdrawn'];

/**
 * The decision of an answer from pool `index` of `list` (ignored for 'no-members' and
 * 'fail-closed') with its TTL, made the first time and kept with the list: decisions are read,
 * never changed.
 */
function decisionOf(routed: RoutedName, list: ResolvedPoolList, index: number, outcome: RoutingOutcome, degraded: DegradedReason | null): RoutingDecision {
  const n = list.pools.length;
  const base = outcome === 'primary' ? index : outcome === 'failover' ? n + index : outcome === 'fail-open' ? 2 * n + index : outcome === 'fail-closed' ? 3 * n : 3 * n + 1;
  const slot = base * DEGRADED_SLOTS.length + DEGRADED_SLOTS.indexOf(degraded);
  let decision = list.decisions[slot];
  if (decision === undefined) {
    const answers = outcome !== 'fail-closed' && outcome !== 'no-members';
    const pool = answers ? list.pools[index]! : null;
    decision = {
      rule: list.rule,
      ruleKey: list.ruleKey,
      pools: list.poolNames,
      pool: pool?.name ?? null,
      outcome,
      scope: list.scope,
      names: pool !== null && pool.names.length > 0,
      ttl: answers ? (degraded === null ? routed.ttl : routed.degradedTtl) : null,
      degraded,
    };
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

/** How many members of the pool are up, answerable (not drained) or enabled, for this routing. */
function count(cache: RouteCache, pool: ServedPool, family: 4 | 6, eitherFamily: boolean, which: 'up' | 'answerable' | 'enabled'): number {
  const state = cache.membersOf(pool, family);
  const here = which === 'enabled' ? state.enabled : state[which].members.length;
  // Where a name can answer a CNAME, one client gets the CNAME or the addresses for every type,
  // so a pool of addresses counts as up when a member of either family is.
  if (here > 0 || !eitherFamily || pool.names.length > 0) return here;
  const other = cache.membersOf(pool, family === 4 ? 6 : 4);
  return which === 'enabled' ? other.enabled : other[which].members.length;
}

/** routeName with its inputs as arguments: the query path's form, with no object to build. */
export function route(routed: RoutedName, family: 4 | 6, client: RoutingClient | null, cache: RouteCache, random: RandomSource, named: boolean): RouteResult {
  const list = routed.geo !== null && client !== null ? resolvePoolList(routed, client, cache) : cache.fixedListOf(routed);
  const pools = list.pools;
  const eitherFamily = routed.answersNames;
  let firstWithMembers = -1;
  // The first pool with members enabled in the file: answering from a later one is degraded,
  // even when the pools before it are only drained (which the outcome does not count as failover).
  let firstEnabled = -1;
  for (let i = 0; i < pools.length; i++) {
    const pool = pools[i]!;
    if (firstEnabled === -1 && count(cache, pool, family, eitherFamily, 'enabled') > 0) firstEnabled = i;
    if (count(cache, pool, family, eitherFamily, 'up') > 0) {
      const members = cache.membersOf(pool, family);
      const degraded = i > firstEnabled ? 'later-pool' : members.complete ? null : 'members-withdrawn';
      return answerFrom(pool, members.up, named, random, cache, decisionOf(routed, list, i, i === 0 || firstWithMembers === -1 ? 'primary' : 'failover', degraded));
    }
    if (firstWithMembers === -1 && count(cache, pool, family, eitherFamily, 'answerable') > 0) firstWithMembers = i;
  }
  const result = cache.result;
  result.cname = null;
  if (firstWithMembers === -1) {
    result.records = NONE;
    result.decision = decisionOf(routed, list, 0, 'no-members', null);
  } else if (routed.whenAllDown === 'fail-closed') {
    result.records = NONE;
    result.decision = decisionOf(routed, list, 0, 'fail-closed', null);
  } else {
    // Every pool down: answer the first pool's members anyway (fail open, as gdnsd and Route 53 do).
    const pool = pools[firstWithMembers]!;
    return answerFrom(pool, cache.membersOf(pool, family).answerable, named, random, cache, decisionOf(routed, list, firstWithMembers, 'fail-open', 'fail-open'));
  }
  return result;
}

/** The cache's result: the records of `set` (addresses, or one name drawn by weight) at the decision's TTL. */
function answerFrom(pool: ServedPool, set: MemberSet, named: boolean, random: RandomSource, cache: RouteCache, decision: RoutingDecision): RouteResult {
  const result = cache.result;
  const degraded = decision.degraded !== null;
  result.decision = decision;
  if (pool.names.length > 0) {
    const member = pickName(set, random);
    result.cname = member.cname;
    result.records = cnameAnswer(member, named, degraded);
  } else {
    result.cname = null;
    result.records = set.members.length === 0 ? NONE : recordsOf(pool, set, named, degraded, random, cache.shuffler);
  }
  return result;
}

/**
 * True when some pool in the list has members of the family (of either family, or names, in a
 * list that holds names) but none of them is up (the all-down watch, off the query path).
 */
export function isPoolListDown(pools: readonly ServedPool[], family: 4 | 6, health: HealthView): boolean {
  const eitherFamily = pools.some((pool) => pool.names.length > 0);
  let hasMembers = false;
  for (const pool of pools) {
    for (const member of eitherFamily ? pool.members : family === 4 ? pool.members4 : pool.members6) {
      if (!member.enabled) continue;
      const status = health.status(member.probeKey, member.address);
      if (status === 'up') return false;
      if (status !== 'drained') hasMembers = true;
    }
  }
  return hasMembers;
}
