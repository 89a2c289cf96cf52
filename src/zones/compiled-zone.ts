/**
 * The compiled zone: what the query path, routing, DNSSEC, the all-down watch and the operator
 * views read. Plain data, built once by compile-zone.ts (its index included: pools, probe
 * targets, routed lists, wildcards) and never changed after: every field is readonly, and the
 * two accessors below build what a zone does not hold instead of filling it in.
 */
import { encodeName, recordOf, tailOf } from '../wire/index.js';
import type { CheckSource, GeoRulesSource, RoutingSource, WhenAllDown } from './zone-source.js';

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
  readonly name: string;
  /** The routed name that answers from it. */
  readonly owner: string;
  /** Its index in the zone's `pools`: routing keeps per-pool state in arrays by this slot. */
  readonly slot: number;
  readonly maxAnswers: number | null;
  /** True when weights differ or answers are capped: a weighted draw instead of a shuffle. */
  readonly weighted: boolean;
  readonly location: { readonly lat: number; readonly lon: number } | null;
  readonly check: CheckSource | null;
  readonly members4: readonly ServedMember[];
  readonly members6: readonly ServedMember[];
  /** Name members: the pool answers one CNAME, whatever the type asked (empty for a pool of addresses). */
  readonly names: readonly ServedMember[];
  /** Every member, addresses (IPv4, then IPv6) or names: /status, metrics, explain. */
  readonly members: readonly ServedMember[];
}

/** Where a routed name's degraded TTL comes from (explain says it). */
export type DegradedTtlSource =
  | { kind: 'set' }
  | { kind: 'check'; pool: string; check: string; intervalMs: number; rise: number }
  | { kind: 'ttl' };

/** A name whose A/AAAA answers (or, from a pool of names, every answer) come from pools. */
export interface RoutedName {
  readonly kind: RoutingSource['kind'];
  readonly ttl: number;
  /** The TTL while degraded: answered from a later pool, fail-open, or with members withdrawn. */
  readonly degradedTtl: number;
  readonly degradedTtlSource: DegradedTtlSource;
  /**
   * True when some pool it can answer from holds names: then one client gets either the
   * addresses or the CNAME for every type, and a pool counts as up when any of its members is.
   */
  readonly answersNames: boolean;
  readonly whenAllDown: WhenAllDown;
  /** The pool list for `pool` and `failover` names. */
  readonly pools: readonly ServedPool[];
  /** Names of `pools`, in order (the routing decision reports them). */
  readonly poolNames: readonly string[];
  /** Pools by name, for geo rules. */
  readonly poolsByName: ReadonlyMap<string, ServedPool>;
  readonly geo: GeoRulesSource | null;
  /** Its index among the zone's routed names (0 to `routedNameCount` - 1): routing's per-name state. */
  readonly slot: number;
}

export interface CompiledNode {
  readonly name: string;
  readonly rrsets: ReadonlyMap<number, CompiledRRset>;
  readonly cname: { readonly rrset: CompiledRRset; readonly target: string } | null;
  readonly routed: RoutedName | null;
  /** NS records at a name below the apex: a zone cut (RFC 1034 §4.2.1). */
  readonly delegation: CompiledRRset | null;
  /** Glue for a delegation: addresses of its NS targets held in this zone. */
  readonly glue: readonly Buffer[];
  /** The RRset type sent for ANY (RFC 8482 §4.1: one RRset), or 0 for an empty node. */
  readonly anyType: number;
}

export interface CompiledZone {
  readonly origin: string;
  readonly file: string;
  readonly serial: number;
  /** Digest of the file it came from: an unchanged file is not compiled again. */
  readonly contentHash: string;
  readonly nodes: ReadonlyMap<string, CompiledNode>;
  /** SOA in the authority section of NXDOMAIN/NODATA, TTL = min(SOA TTL, minimum) (RFC 2308 §5). */
  readonly negativeSoa: Buffer;
  readonly hasDelegations: boolean;
  /** Every pool of every routed name, in zone order (/status, metrics). */
  readonly pools: readonly ServedPool[];
  /** One per (probe address, check) pair the zone's pools use, with the members behind it. */
  readonly probeTargets: readonly ZoneProbeTarget[];
  /** Every distinct pool list each routed name can answer from (the all-down watch). */
  readonly routedLists: readonly RoutedList[];
  /** How many names are routed (their `RoutedName.slot`s run from 0 to this, exclusive). */
  readonly routedNameCount: number;
  /** The wildcard nodes (`*.P`) by their parent P: a name with no node is answered from its closest encloser's (RFC 4592). */
  readonly wildcards: ReadonlyMap<string, CompiledNode>;
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
