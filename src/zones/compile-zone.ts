/**
 * ZoneSource → CompiledZone: everything the query path needs, computed once per load.
 * Names are lower-cased keys, empty non-terminals exist as nodes, every record is encoded
 * twice (owner as a pointer to the question, and owner written out), and the negative
 * answer's SOA carries its RFC 2308 TTL already.
 */
import { geoPoolLists } from '../geo-rules/index.js';
import { encodeRecordTail, recordTypeNamed, recordTypeOfCode, TYPE_CODES_FOR_ANY, type RData } from '../records/index.js';
import { encodeName, OWNER_IS_QNAME, RRType } from '../wire/index.js';
import type { CheckSource, GeoRulesSource, NameSource, PoolSource, RoutingSource, WhenAllDown, ZoneSource } from './zone-source.js';

const NO_BUFFERS: readonly Buffer[] = [];

/** `record` (owner = pointer to the question) with the encoded owner name written out instead. */
function withOwner(ownerWire: Buffer, record: Buffer): Buffer {
  return Buffer.concat([ownerWire, record.subarray(OWNER_IS_QNAME.length)]);
}

/**
 * An RRset ready to copy into answers. Most answers point the owner at the question; the form
 * with the owner written out (a CNAME target, a referral's authority) is rarely asked for, so it
 * is built on first use: eagerly, it doubled the Buffers of a 10,000-name zone (~7 MB).
 */
export class CompiledRRset {
  private named: readonly Buffer[] | null = null;

  constructor(
    readonly owner: string,
    readonly type: number,
    readonly ttl: number,
    /** Records whose owner is the question name (a 2-byte pointer to offset 12). */
    readonly records: readonly Buffer[],
    /** Addresses of in-zone targets (NS, MX, SRV): additional-section extras. */
    readonly extra: readonly Buffer[] = NO_BUFFERS,
  ) {}

  /** The same records with the owner name written out, for CNAME targets and authority sections. */
  get namedRecords(): readonly Buffer[] {
    if (this.named === null) {
      const ownerWire = encodeName(this.owner);
      this.named = this.records.map((record) => withOwner(ownerWire, record));
    }
    return this.named;
  }

  withExtra(extra: readonly Buffer[]): CompiledRRset {
    return new CompiledRRset(this.owner, this.type, this.ttl, this.records, extra);
  }
}

/** One member of a pool as served under one routed name (owner and TTL are the name's). */
export class ServedMember {
  private named: Buffer | null = null;

  constructor(
    readonly owner: string,
    readonly address: string,
    readonly family: 4 | 6,
    /** The (probe address, check) identity, null when the pool has no check. */
    readonly probeKey: string | null,
    readonly probeAddress: string,
    readonly weight: number,
    readonly enabled: boolean,
    /** The member's record, owner pointing at the question. */
    readonly record: Buffer,
  ) {}

  /** The record with the owner written out (the routed name is a CNAME target): built on first use. */
  get namedRecord(): Buffer {
    return (this.named ??= withOwner(encodeName(this.owner), this.record));
  }
}

/** The members a pool can answer with, per family; cached "up" lists are filled per health version. */
export interface ServedPool {
  name: string;
  maxAnswers: number | null;
  /** True when weights differ or answers are capped: a weighted draw instead of a shuffle. */
  weighted: boolean;
  location: { lat: number; lon: number } | null;
  check: CheckSource | null;
  members4: readonly ServedMember[];
  members6: readonly ServedMember[];
}

/** A name whose A/AAAA answers come from pools. */
export interface RoutedName {
  kind: RoutingSource['kind'];
  ttl: number;
  whenAllDown: WhenAllDown;
  /** The pool list for `pool` and `failover` names. */
  pools: readonly ServedPool[];
  /** Names of `pools`, in order (the routing decision reports them). */
  poolNames: readonly string[];
  /** Pools by name, for geo rules. */
  poolsByName: ReadonlyMap<string, ServedPool>;
  geo: GeoRulesSource | null;
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
}

/** The key identifying one probe: the same (address, check settings) is probed once. */
export type ProbeKeyOf = (address: string, check: CheckSource) => string;

/** The RRsets of an empty non-terminal: one shared, empty map. */
const NO_RRSETS: ReadonlyMap<number, CompiledRRset> = new Map();

function rrset(owner: string, ttl: number, rdatas: readonly RData[]): CompiledRRset {
  const type = rdatas[0] ? recordTypeNamed(rdatas[0].type).code : 0;
  return new CompiledRRset(owner, type, ttl, rdatas.map((rdata) => Buffer.concat([OWNER_IS_QNAME, encodeRecordTail(rdata, ttl)])));
}

function isInZone(name: string, origin: string): boolean {
  return name === origin || name.endsWith(`.${origin}`);
}

function servePool(pool: PoolSource, owner: string, ttl: number, checks: ReadonlyMap<string, CheckSource>, probeKeyOf: ProbeKeyOf): ServedPool {
  const check = pool.check === null ? null : checks.get(pool.check) ?? null;
  const members = pool.members.map((member): ServedMember => {
    const rdata: RData = member.family === 4 ? { type: 'A', address: member.address } : { type: 'AAAA', address: member.address };
    const probeAddress = member.probe ?? member.address;
    const probeKey = check === null ? null : probeKeyOf(probeAddress, check);
    const record = Buffer.concat([OWNER_IS_QNAME, encodeRecordTail(rdata, ttl)]);
    return new ServedMember(owner, member.address, member.family, probeKey, probeAddress, member.weight, member.enabled, record);
  });
  const weights = new Set(pool.members.map((m) => m.weight));
  return {
    name: pool.name,
    maxAnswers: pool.maxAnswers,
    weighted: weights.size > 1 || pool.maxAnswers !== null,
    location: pool.location,
    check,
    members4: members.filter((m) => m.family === 4),
    members6: members.filter((m) => m.family === 6),
  };
}

function poolNamesOf(routing: RoutingSource): string[] {
  if (routing.kind !== 'geo') return [...routing.pools];
  return [...new Set(geoPoolLists(routing.rules).flat())];
}

function compileRouting(entry: NameSource, routing: RoutingSource, zone: ZoneSource, probeKeyOf: ProbeKeyOf): RoutedName {
  const poolsByName = new Map<string, ServedPool>();
  for (const name of poolNamesOf(routing)) {
    const pool = zone.pools.get(name);
    if (pool) poolsByName.set(name, servePool(pool, entry.name, entry.ttl, zone.checks, probeKeyOf));
  }
  const pools = routing.kind === 'geo' ? [] : routing.pools.map((name) => poolsByName.get(name)!);
  return {
    kind: routing.kind,
    ttl: entry.ttl,
    whenAllDown: entry.whenAllDown,
    pools,
    poolNames: pools.map((pool) => pool.name),
    poolsByName,
    geo: routing.kind === 'geo' ? routing.rules : null,
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
  const soaSet = rrset(origin, zone.soa.ttl, [soaRdata]);
  const negativeSoa = rrset(origin, Math.min(zone.soa.ttl, zone.soa.minimum), [soaRdata]).namedRecords[0]!;

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
    for (const [typeName, rdatas] of entry.records) {
      if (rdatas.length === 0) continue;
      const compiled = rrset(entry.name, entry.ttl, rdatas);
      if (typeName === 'CNAME') item.cname = compiled;
      else if (typeName === 'NS' && entry.name !== origin) item.delegation = compiled;
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

  // Pass 2: additional-section addresses of in-zone targets, routing, ANY choice.
  const extraFor = (set: CompiledRRset, rdatas: readonly RData[] | undefined): CompiledRRset => {
    const extra: Buffer[] = [];
    for (const rdata of rdatas ?? []) {
      const target = recordTypeNamed(rdata.type).additionalName?.(rdata);
      if (target === undefined || !isInZone(target, origin)) continue;
      for (const addresses of addressesOf.get(target) ?? []) extra.push(...addresses.namedRecords);
    }
    return extra.length === 0 ? set : set.withExtra(extra);
  };
  const nodes = new Map<string, CompiledNode>();
  let hasDelegations = false;
  for (const { entry, rrsets, cname: cnameSet, delegation: delegationSet } of pending) {
    for (const [code, set] of rrsets) {
      const type = recordTypeOfCode(code)!;
      if (type.additionalName) rrsets.set(code, extraFor(set, entry.records.get(type.name as RData['type'])));
    }
    const delegation = delegationSet ? extraFor(delegationSet, entry.records.get('NS')) : null;
    if (delegation) hasDelegations = true;
    const cnameRdata = entry.records.get('CNAME')?.[0];
    const cname = cnameSet ? { rrset: cnameSet, target: cnameRdata?.type === 'CNAME' ? cnameRdata.target : '' } : null;
    if (entry.name === origin) rrsets.set(RRType.SOA, soaSet);
    const routed = entry.routing ? compileRouting(entry, entry.routing, zone, probeKeyOf) : null;
    const anyType = cname
      ? RRType.CNAME
      : routed
        ? RRType.A
        : TYPE_CODES_FOR_ANY.find((type) => rrsets.has(type)) ?? [...rrsets.keys()][0] ?? 0;
    nodes.set(entry.name, { name: entry.name, rrsets, cname, routed, delegation, glue: delegation?.extra ?? NO_BUFFERS, anyType });
    yield;
  }
  // Empty non-terminals: every ancestor of a name exists (RFC 8020 §2: NXDOMAIN means nothing below).
  let sinceYield = 0;
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
  return { origin, file: zone.file, serial, contentHash: zone.contentHash, nodes, negativeSoa, hasDelegations };
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
