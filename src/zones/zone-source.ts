/**
 * The zone file's meaning once it has been read and validated, before compilation: plain data,
 * names lower-cased and fully qualified (without the final dot), durations in seconds or ms.
 */
import { geoPoolLists, type GeoRulesSource, type NetworkRule } from '../geo-rules/index.js';
import type { ProbeTypeName, Quorum } from '../health/index.js';
import type { RData, RecordTypeName } from '../records/index.js';
import type { Diagnostic } from './diagnostic.js';

export type { GeoRulesSource, NetworkRule, RData, RecordTypeName };

/** What a routed name does when every pool in its list is down. */
export type WhenAllDown = 'fail-open' | 'fail-closed';

export interface SoaSource {
  mname: string;
  rname: string;
  /** Absent when the file omits it: the loader derives one that grows on every change. */
  serial: number | undefined;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  ttl: number;
}

export type RoutingSource =
  | { kind: 'pool'; pools: readonly [string] }
  | { kind: 'failover'; pools: readonly string[] }
  | { kind: 'geo'; rules: GeoRulesSource };

/** Every pool a routed name can answer from, each once. */
export function routedPoolNames(routing: RoutingSource): string[] {
  return routing.kind === 'geo' ? [...new Set(geoPoolLists(routing.rules).flat())] : [...routing.pools];
}

export interface NameSource {
  /** Lower-case, fully qualified, no final dot. */
  name: string;
  ttl: number;
  /** `degraded_ttl`: the TTL of a routed answer while its name is degraded; null: the default. */
  degradedTtl: number | null;
  records: ReadonlyMap<RecordTypeName, readonly RData[]>;
  routing: RoutingSource | null;
  whenAllDown: WhenAllDown;
}

/** A pool member: an address answered as A/AAAA, or a name answered as one CNAME. */
export type MemberSource = AddressMemberSource | NameMemberSource;

export interface AddressMemberSource {
  kind: 'address';
  /** The answered address, canonical text form. */
  address: string;
  family: 4 | 6;
  /** Address probed instead of `address`, or null. */
  probe: string | null;
  weight: number;
  enabled: boolean;
}

export interface NameMemberSource {
  kind: 'name';
  /** The CNAME target: lower-case, fully qualified, no final dot. */
  target: string;
  /** The address its health is probed at (null: the pool has no check). */
  probe: string | null;
  weight: number;
  enabled: boolean;
}

export interface PoolSource {
  name: string;
  /** What its members are: addresses (A/AAAA answers) or names (one CNAME answer). */
  holds: 'addresses' | 'names';
  check: string | null;
  maxAnswers: number | null;
  location: { lat: number; lon: number } | null;
  members: readonly MemberSource[];
}

export interface CheckSource {
  name: string;
  type: ProbeTypeName;
  port: number;
  path: string;
  host: string | undefined;
  expect: readonly number[];
  body: string | undefined;
  verify: boolean;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  /** In a fleet: fresh views that must say up (health's Quorum); undefined: majority. */
  quorum?: Quorum;
}

export interface ZoneSource {
  file: string;
  origin: string;
  defaultTtl: number;
  soa: SoaSource;
  names: readonly NameSource[];
  pools: ReadonlyMap<string, PoolSource>;
  checks: ReadonlyMap<string, CheckSource>;
  /** Digest of the file's bytes: a derived serial grows only when this changes. */
  contentHash: string;
  /**
   * The file's modification time in whole seconds, which a derived serial starts from, so every
   * process reading the same file derives the same serial; null for text not read from a file.
   */
  modifiedSeconds: number | null;
  /** Where the `zone:` value sits, for duplicate-zone diagnostics across files. */
  originLine: number;
  originCol: number;
  /** What `check` prints as warnings: legal, but probably not what was meant. */
  warnings: readonly Diagnostic[];
}
