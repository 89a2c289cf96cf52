/**
 * ZoneSource → CompiledZone: everything the query path needs, computed once per load.
 * Names are lower-cased keys, empty non-terminals exist as nodes, every record is encoded
 * twice (owner as a pointer to the question, and owner written out), and the negative
 * answer's SOA carries its RFC 2308 TTL already.
 */
import { geoPoolLists } from '../geo-rules/index.js';
import { encodeRecordTail, recordTypeNamed, recordTypeOfCode, TYPE_CODES_FOR_ANY, type RData } from '../records/index.js';
import { encodeName, recordOf, RRType, tailOf } from '../wire/index.js';
import type { CheckSource, GeoRulesSource, NameSource, PoolSource, RoutingSource, WhenAllDown, ZoneSource } from './zone-source.js';

const NO_BUFFERS: readonly Buffer[] = [];

/** The records of `records` with `owner` written out: the same records as an answer after a CNAME needs them. */
export function withOwnerWritten(owner: string, records: readonly Buffer[]): Buffer[] {
  const ownerWire = encodeName(owner);
  return records.map((record) => recordOf(ownerWire, tailOf(record)));
}

/** An RRset ready to copy into answers. */
export interface CompiledRRset {
  readonly owner: string;
  readonly type: number;
  readonly ttl: number;
  /** Records whose owner is the question name (a 2-byte pointer to offset 12). */
  readonly records: readonly Buffer[];
  /**
   * The same records with the owner name written out, where an answer can need them: at the
   * targets of in-zone CNAMEs (the records after the CNAME) and at delegations (the referral's
   * NS); null elsewhere. Built for every name, it doubled the Buffers of a 10,000-name zone (~7 MB).
   */
  readonly namedRecords: readonly Buffer[] | null;
  /** Addresses of in-zone targets (NS, MX, SRV): additional-section extras. */
  readonly extra: readonly Buffer[];
}

/**
 * An RRset's records with the owner written out. Compiling builds them wherever an answer can
 * need them, so the second form is a guard that never mutates the zone, not a lazy fill.
 */
export function namedRecordsOf(rrset: CompiledRRset): readonly Buffer[] {
  return rrset.namedRecords ?? withOwnerWritten(rrset.owner, rrset.records);
}

/** One member of a pool as served under one routed name (owner and TTLs are the name's). */
export interface ServedMember {
  readonly owner: string;
  /**
   * What health and overrides know it by: the answered address, or for a name member its probe
   * address (its target name when it has none: never probed, never overridden).
   */
  readonly address: string;
  /** The answered address's family; null for a name member, which answers every type. */
  readonly family: 4 | 6 | null;
  /** A name member's CNAME target (lower-case, no final dot); null for an address. */
  readonly cname: string | null;
  /** The (probe address, check) identity, null when the pool has no check. */
  readonly probeKey: string | null;
  readonly probeAddress: string;
  readonly weight: number;
  readonly enabled: boolean;
  /** The member's record with the name's `ttl`, owner pointing at the question. */
  readonly record: Buffer;
  /** The record with the owner written out, when the routed name is an in-zone CNAME target; else null. */
  readonly namedRecord: Buffer | null;
  /** The same with the name's degraded TTL (the very same Buffers when both TTLs are equal). */
  readonly degradedRecord: Buffer;
  readonly degradedNamedRecord: Buffer | null;
  /** A name member's CNAME alone, as a whole answer in each form ([ttl, degraded] × [pointer, named]): no array per query. */
  readonly alone: MemberAnswers | null;
}

/** One record as a whole answer, per TTL (full or degraded) and owner form (pointer or written out). */
export interface MemberAnswers {
  readonly full: readonly Buffer[];
  readonly degraded: readonly Buffer[];
  readonly fullNamed: readonly Buffer[] | null;
  readonly degradedNamed: readonly Buffer[] | null;
}

/** A member's record with the owner written out (see namedRecordsOf), with the full or the degraded TTL. */
export function namedRecordOf(member: ServedMember, degraded = false): Buffer {
  const named = degraded ? member.degradedNamedRecord : member.namedRecord;
  return named ?? withOwnerWritten(member.owner, [degraded ? member.degradedRecord : member.record])[0]!;
}

/** The members a pool can answer with under one routed name, per family (or names, for a pool of names). */
export interface ServedPool {
  name: string;
  /** The routed name that answers from it. */
  owner: string;
  /** Its index in the zone's `pools`: routing keeps per-pool state in arrays by this slot. */
  slot: number;
  maxAnswers: number | null;
  /** True when weights differ or answers are capped: a weighted draw instead of a shuffle. */
  weighted: boolean;
  location: { lat: number; lon: number } | null;
  check: CheckSource | null;
  members4: readonly ServedMember[];
  members6: readonly ServedMember[];
  /** Name members: the pool answers one CNAME, whatever the type asked (empty for a pool of addresses). */
  names: readonly ServedMember[];
  /** Every member, addresses (IPv4, then IPv6) or names: /status, metrics, explain. */
  members: readonly ServedMember[];
}

/** Where a routed name's degraded TTL comes from (explain says it). */
export type DegradedTtlSource =
  | { kind: 'set' }
  | { kind: 'check'; pool: string; check: string; intervalMs: number; rise: number }
  | { kind: 'ttl' };

/** A name whose A/AAAA answers (or, from a pool of names, every answer) come from pools. */
export interface RoutedName {
  kind: RoutingSource['kind'];
  ttl: number;
  /** The TTL while degraded: answered from a later pool, fail-open, or with members withdrawn. */
  degradedTtl: number;
  degradedTtlSource: DegradedTtlSource;
  /**
   * True when some pool it can answer from holds names: then one client gets either the
   * addresses or the CNAME for every type, and a pool counts as up when any of its members is.
   */
  answersNames: boolean;
  whenAllDown: WhenAllDown;
  /** The pool list for `pool` and `failover` names. */
  pools: readonly ServedPool[];
  /** Names of `pools`, in order (the routing decision reports them). */
  poolNames: readonly string[];
  /** Pools by name, for geo rules. */
  poolsByName: ReadonlyMap<string, ServedPool>;
  geo: GeoRulesSource | null;
  /** Its index among the zone's routed names (0 to `routedNameCount` - 1): routing's per-name state. */
  slot: number;
}

export interface CompiledNode {
  name: string;
  rrsets: ReadonlyMap<number, CompiledRRset>;
  cname: { rrset: CompiledRRset; target: string } | null;
  routed: RoutedName | null;
  /** NS records at a name below the apex: a zone cut (RFC 1034 §4.2.1). */
  delegation: CompiledRRset | null;
  /** Glue for a delegation: addresses of its NS targets held in this zone. */
  glue: readonly Buffer[];
  /** The RRset type sent for ANY (RFC 8482 §4.1: one RRset), or 0 for an empty node. */
  anyType: number;
}

export interface CompiledZone {
  origin: string;
  file: string;
  serial: number;
  /** Digest of the file it came from: an unchanged file is not compiled again. */
  contentHash: string;
  nodes: ReadonlyMap<string, CompiledNode>;
  /** SOA in the authority section of NXDOMAIN/NODATA, TTL = min(SOA TTL, minimum) (RFC 2308 §5). */
  negativeSoa: Buffer;
  hasDelegations: boolean;
  /** Every pool of every routed name, in zone order (/status, metrics). */
  pools: readonly ServedPool[];
  /** One per (probe address, check) pair the zone's pools use, with the members behind it. */
  probeTargets: readonly ZoneProbeTarget[];
  /** Every distinct pool list each routed name can answer from (the all-down watch). */
  routedLists: readonly RoutedList[];
  /** How many names are routed (their `RoutedName.slot`s run from 0 to this, exclusive). */
  routedNameCount: number;
  /** The wildcard nodes (`*.P`) by their parent P: a name with no node is answered from its closest encloser's (RFC 4592). */
  wildcards: ReadonlyMap<string, CompiledNode>;
}

/** A member that depends on a probe target, as health logs and counts it. */
export interface ProbedMember {
  readonly zone: string;
  readonly pool: string;
  readonly address: string;
}

/** One (probe address, check) pair to monitor: what health's `setTargets` takes. */
export interface ZoneProbeTarget {
  readonly probeKey: string;
  readonly address: string;
  readonly check: CheckSource;
  readonly members: readonly ProbedMember[];
}

/** One pool list a routed name can answer from: its fixed list, or one geo rule's. */
export interface RoutedList {
  readonly name: string;
  readonly pools: readonly ServedPool[];
  readonly poolNames: readonly string[];
  readonly whenAllDown: WhenAllDown;
}

/** The key identifying one probe: the same (address, check settings) is probed once. */
export type ProbeKeyOf = (address: string, check: CheckSource) => string;

/** The RRsets of an empty non-terminal: one shared, empty map. */
const NO_RRSETS: ReadonlyMap<number, CompiledRRset> = new Map();

function rrset(owner: string, ttl: number, rdatas: readonly RData[], named: boolean): CompiledRRset {
  const type = rdatas[0] ? recordTypeNamed(rdatas[0].type).code : 0;
  const records = rdatas.map((rdata) => recordOf(null, encodeRecordTail(rdata, ttl)));
  return { owner, type, ttl, records, namedRecords: named ? withOwnerWritten(owner, records) : null, extra: NO_BUFFERS };
}

function isInZone(name: string, origin: string): boolean {
  return name === origin || name.endsWith(`.${origin}`);
}

/** A record (pointer form) with the full and degraded TTLs, and their named forms when `ownerWire` is given. */
function encodedForms(rdata: RData, ttl: number, degradedTtl: number, ownerWire: Buffer | null) {
  const record = recordOf(null, encodeRecordTail(rdata, ttl));
  const degradedRecord = degradedTtl === ttl ? record : recordOf(null, encodeRecordTail(rdata, degradedTtl));
  const namedRecord = ownerWire === null ? null : recordOf(ownerWire, tailOf(record));
  const degradedNamedRecord = ownerWire === null ? null : degradedRecord === record ? namedRecord : recordOf(ownerWire, tailOf(degradedRecord));
  return { record, namedRecord, degradedRecord, degradedNamedRecord };
}

function servePool(
  pool: PoolSource,
  owner: string,
  ttls: { ttl: number; degradedTtl: number },
  slot: number,
  named: boolean,
  checks: ReadonlyMap<string, CheckSource>,
  probeKeyOf: ProbeKeyOf,
): ServedPool {
  const check = pool.check === null ? null : checks.get(pool.check) ?? null;
  const ownerWire = named ? encodeName(owner) : null;
  const members = pool.members.map((member): ServedMember => {
    const common = { owner, weight: member.weight, enabled: member.enabled };
    if (member.kind === 'name') {
      const probeAddress = member.probe ?? member.target;
      const probeKey = check === null || member.probe === null ? null : probeKeyOf(member.probe, check);
      const forms = encodedForms({ type: 'CNAME', target: member.target }, ttls.ttl, ttls.degradedTtl, ownerWire);
      const alone: MemberAnswers = {
        full: [forms.record],
        degraded: forms.degradedRecord === forms.record ? [forms.record] : [forms.degradedRecord],
        fullNamed: forms.namedRecord === null ? null : [forms.namedRecord],
        degradedNamed: forms.degradedNamedRecord === null ? null : [forms.degradedNamedRecord],
      };
      return { ...common, address: probeAddress, family: null, cname: member.target, probeKey, probeAddress, ...forms, alone };
    }
    const rdata: RData = member.family === 4 ? { type: 'A', address: member.address } : { type: 'AAAA', address: member.address };
    const probeAddress = member.probe ?? member.address;
    const probeKey = check === null ? null : probeKeyOf(probeAddress, check);
    return { ...common, address: member.address, family: member.family, cname: null, probeKey, probeAddress, ...encodedForms(rdata, ttls.ttl, ttls.degradedTtl, ownerWire), alone: null };
  });
  const weights = new Set(pool.members.map((m) => m.weight));
  const members4 = members.filter((m) => m.family === 4);
  const members6 = members.filter((m) => m.family === 6);
  const names = members.filter((m) => m.cname !== null);
  return {
    name: pool.name,
    owner,
    slot,
    maxAnswers: pool.maxAnswers,
    weighted: weights.size > 1 || pool.maxAnswers !== null,
    location: pool.location,
    check,
    members4,
    members6,
    names,
    members: [...members4, ...members6, ...names],
  };
}

/**
 * The TTL of a routed name's degraded answers: `degraded_ttl` if set, else the smaller of `ttl`
 * and the first pool's check `interval × rise` (when recovery can first be seen), the shortest
 * over the first pools of its lists; `ttl` when no first pool is checked.
 */
function degradedTtlOf(entry: NameSource, lists: readonly (readonly string[])[], zone: ZoneSource): { degradedTtl: number; degradedTtlSource: DegradedTtlSource } {
  if (entry.degradedTtl !== null) return { degradedTtl: entry.degradedTtl, degradedTtlSource: { kind: 'set' } };
  let best: { degradedTtl: number; degradedTtlSource: DegradedTtlSource } = { degradedTtl: entry.ttl, degradedTtlSource: { kind: 'ttl' } };
  for (const list of lists) {
    const pool = zone.pools.get(list[0]!);
    const check = pool?.check == null ? undefined : zone.checks.get(pool.check);
    if (pool === undefined || check === undefined) continue;
    const seconds = Math.ceil((check.intervalMs * check.rise) / 1000);
    if (seconds < best.degradedTtl) {
      best = { degradedTtl: seconds, degradedTtlSource: { kind: 'check', pool: pool.name, check: check.name, intervalMs: check.intervalMs, rise: check.rise } };
    }
  }
  return best;
}

/** Every distinct pool list a routed name can answer from (its fixed list, or each geo rule's), in rule order. */
function poolListsOf(routing: RoutingSource): (readonly string[])[] {
  if (routing.kind !== 'geo') return [routing.pools];
  const seen = new Set<string>();
  return geoPoolLists(routing.rules).filter((list) => {
    const key = list.join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `slots`: the next free pool slot and routed-name slot of the zone, moved on past what this name takes. */
function compileRouting(
  entry: NameSource,
  routing: RoutingSource,
  lists: readonly (readonly string[])[],
  named: boolean,
  slots: { pool: number; routed: number },
  zone: ZoneSource,
  probeKeyOf: ProbeKeyOf,
): RoutedName {
  const poolsByName = new Map<string, ServedPool>();
  const ttls = degradedTtlOf(entry, lists, zone);
  for (const name of new Set(lists.flat())) {
    const pool = zone.pools.get(name);
    if (pool) poolsByName.set(name, servePool(pool, entry.name, { ttl: entry.ttl, degradedTtl: ttls.degradedTtl }, slots.pool++, named, zone.checks, probeKeyOf));
  }
  const pools = routing.kind === 'geo' ? [] : routing.pools.map((name) => poolsByName.get(name)!);
  return {
    kind: routing.kind,
    ttl: entry.ttl,
    ...ttls,
    answersNames: [...poolsByName.values()].some((pool) => pool.names.length > 0),
    whenAllDown: entry.whenAllDown,
    pools,
    poolNames: pools.map((pool) => pool.name),
    poolsByName,
    geo: routing.kind === 'geo' ? routing.rules : null,
    slot: slots.routed++,
  };
}

/**
 * Compiles a validated zone step by step: the generator yields after each name so a caller can
 * spread a large zone over several turns of the event loop (compileZoneAsync) while queries
 * keep being answered from the previous catalog.
 */
export function* compileZoneSteps(zone: ZoneSource, serial: number, probeKeyOf: ProbeKeyOf): Generator<void, CompiledZone, void> {
  const origin = zone.origin;
  const soaRdata: RData = { type: 'SOA', ...zone.soa, serial };
  const negativeSoa = withOwnerWritten(origin, rrset(origin, Math.min(zone.soa.ttl, zone.soa.minimum), [soaRdata], false).records)[0]!;

  // Pass 0: the in-zone CNAME targets, the only names whose records an answer can need with the
  // owner written out (an answer restarts there, RFC 1034 §4.3.2).
  const cnameTargets = new Set<string>();
  let sinceYield = 0;
  for (const entry of zone.names) {
    const cname = entry.records.get('CNAME')?.[0];
    if (cname?.type === 'CNAME' && isInZone(cname.target, origin)) cnameTargets.add(cname.target);
    if (++sinceYield >= 256) {
      sinceYield = 0;
      yield;
    }
  }
  // Pools of names answer CNAMEs too: their in-zone targets are restarted at the same way.
  for (const pool of zone.pools.values()) {
    for (const member of pool.members) if (member.kind === 'name' && isInZone(member.target, origin)) cnameTargets.add(member.target);
  }
  const soaSet = rrset(origin, zone.soa.ttl, [soaRdata], cnameTargets.has(origin));

  interface Pending {
    entry: NameSource;
    rrsets: Map<number, CompiledRRset>;
    cname: CompiledRRset | null;
    delegation: CompiledRRset | null;
  }
  // Pass 1: encode every RRset once.
  const pending: Pending[] = [];
  // Address RRsets by owner, for the additional section of types that name a target (NS, MX, SRV).
  const addressesOf = new Map<string, CompiledRRset[]>();
  for (const entry of zone.names) {
    const item: Pending = { entry, rrsets: new Map(), cname: null, delegation: null };
    const named = cnameTargets.has(entry.name);
    for (const [typeName, rdatas] of entry.records) {
      if (rdatas.length === 0) continue;
      const isDelegation = typeName === 'NS' && entry.name !== origin;
      // A referral writes the delegation's owner out in the authority section.
      const compiled = rrset(entry.name, entry.ttl, rdatas, named || isDelegation);
      if (typeName === 'CNAME') item.cname = compiled;
      else if (isDelegation) item.delegation = compiled;
      else item.rrsets.set(recordTypeNamed(typeName).code, compiled);
      if (typeName === 'A' || typeName === 'AAAA') {
        const list = addressesOf.get(entry.name) ?? [];
        list.push(compiled);
        addressesOf.set(entry.name, list);
      }
    }
    pending.push(item);
    yield;
  }

  // Pass 2: additional-section addresses of in-zone targets, routing and its index, ANY choice.
  const extraFor = (set: CompiledRRset, rdatas: readonly RData[] | undefined): CompiledRRset => {
    const extra: Buffer[] = [];
    for (const rdata of rdatas ?? []) {
      const target = recordTypeNamed(rdata.type).additionalName?.(rdata);
      if (target === undefined || !isInZone(target, origin)) continue;
      for (const addresses of addressesOf.get(target) ?? []) extra.push(...(addresses.namedRecords ?? withOwnerWritten(target, addresses.records)));
    }
    return extra.length === 0 ? set : { ...set, extra };
  };
  const nodes = new Map<string, CompiledNode>();
  const wildcards = new Map<string, CompiledNode>();
  let hasDelegations = false;
  const pools: ServedPool[] = [];
  const slots = { pool: 0, routed: 0 };
  const routedLists: RoutedList[] = [];
  const probeTargets = new Map<string, { probeKey: string; address: string; check: CheckSource; members: ProbedMember[] }>();
  const addProbeTargets = (pool: ServedPool): void => {
    if (pool.check === null) return;
    for (const member of pool.members) {
      if (member.probeKey === null) continue;
      let target = probeTargets.get(member.probeKey);
      if (target === undefined) {
        target = { probeKey: member.probeKey, address: member.probeAddress, check: pool.check, members: [] };
        probeTargets.set(member.probeKey, target);
      }
      if (!target.members.some((m) => m.pool === pool.name && m.address === member.address)) {
        target.members.push({ zone: origin, pool: pool.name, address: member.address });
      }
    }
  };
  for (const { entry, rrsets, cname: cnameSet, delegation: delegationSet } of pending) {
    for (const [code, set] of rrsets) {
      const type = recordTypeOfCode(code);
      if (type?.additionalName) rrsets.set(code, extraFor(set, entry.records.get(type.name as RData['type'])));
    }
    const delegation = delegationSet ? extraFor(delegationSet, entry.records.get('NS')) : null;
    if (delegation) hasDelegations = true;
    const cnameRdata = entry.records.get('CNAME')?.[0];
    const cname = cnameSet ? { rrset: cnameSet, target: cnameRdata?.type === 'CNAME' ? cnameRdata.target : '' } : null;
    if (entry.name === origin) rrsets.set(RRType.SOA, soaSet);
    let routed: RoutedName | null = null;
    if (entry.routing) {
      const lists = poolListsOf(entry.routing);
      routed = compileRouting(entry, entry.routing, lists, cnameTargets.has(entry.name), slots, zone, probeKeyOf);
      for (const pool of routed.poolsByName.values()) {
        pools.push(pool);
        addProbeTargets(pool);
      }
      for (const poolNames of lists) {
        routedLists.push({ name: entry.name, pools: poolNames.map((name) => routed!.poolsByName.get(name)!), poolNames, whenAllDown: routed.whenAllDown });
      }
    }
    const anyType = cname
      ? RRType.CNAME
      : routed
        ? RRType.A
        : TYPE_CODES_FOR_ANY.find((type) => rrsets.has(type)) ?? [...rrsets.keys()][0] ?? 0;
    const node: CompiledNode = { name: entry.name, rrsets, cname, routed, delegation, glue: delegation?.extra ?? NO_BUFFERS, anyType };
    nodes.set(entry.name, node);
    if (entry.name.startsWith('*.')) wildcards.set(entry.name.slice(2), node);
    yield;
  }
  // Empty non-terminals: every ancestor of a name exists (RFC 8020 §2: NXDOMAIN means nothing below).
  for (const name of [...nodes.keys()]) {
    if (++sinceYield >= 256) {
      sinceYield = 0;
      yield;
    }
    let parent = name;
    while (parent !== origin && parent.includes('.')) {
      parent = parent.slice(parent.indexOf('.') + 1);
      if (!isInZone(parent, origin) || nodes.has(parent)) continue;
      nodes.set(parent, { name: parent, rrsets: NO_RRSETS, cname: null, routed: null, delegation: null, glue: NO_BUFFERS, anyType: 0 });
    }
  }
  if (!nodes.has(origin)) {
    nodes.set(origin, { name: origin, rrsets: new Map([[RRType.SOA, soaSet]]), cname: null, routed: null, delegation: null, glue: [], anyType: RRType.SOA });
  }
  return {
    origin,
    file: zone.file,
    serial,
    contentHash: zone.contentHash,
    nodes,
    negativeSoa,
    hasDelegations,
    pools,
    probeTargets: [...probeTargets.values()],
    routedLists,
    routedNameCount: slots.routed,
    wildcards,
  };
}

/** Compiles a validated zone in one go (start-up, `check`, explain, tests). */
export function compileZone(zone: ZoneSource, serial: number, probeKeyOf: ProbeKeyOf): CompiledZone {
  const steps = compileZoneSteps(zone, serial, probeKeyOf);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * Compiles in slices of at most `sliceMs` of CPU, yielding to the event loop between them, so
 * a reload of a large zone never holds queries up for longer than one slice.
 */
export async function compileZoneAsync(zone: ZoneSource, serial: number, probeKeyOf: ProbeKeyOf, sliceMs = 5): Promise<CompiledZone> {
  const steps = compileZoneSteps(zone, serial, probeKeyOf);
  for (;;) {
    const sliceEnd = performance.now() + sliceMs;
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      if (performance.now() >= sliceEnd) break;
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
