/**
 * A routed name compiled: its pools as served under it, each member's record encoded in every
 * form an answer can take (full or degraded TTL, owner pointed or written out, a name member's
 * CNAME alone), the degraded TTL and where it comes from, and the pool lists it can answer from.
 */
import { geoPoolLists } from '../geo-rules/index.js';
import { encodeRecordTail, type RData } from '../records/index.js';
import { encodeName, recordOf, tailOf } from '../wire/index.js';
import type { DegradedTtlSource, MemberAnswers, ProbeKeyOf, RoutedName, ServedMember, ServedPool } from './compiled-zone.js';
import type { CheckSource, NameSource, PoolSource, RoutingSource, ZoneSource } from './zone-source.js';

/** A record (pointer form) with the full and degraded TTLs, and their named forms when `ownerWire` is given. */
function encodedForms(rdata: RData, ttl: number, degradedTtl: number, ownerWire: Buffer | null) {
  const record = recordOf(null, encodeRecordTail(rdata, ttl));
  const degradedRecord = degradedTtl === ttl ? record : recordOf(null, encodeRecordTail(rdata, degradedTtl));
  const namedRecord = ownerWire === null ? null : recordOf(ownerWire, tailOf(record));
  const degradedNamedRecord = ownerWire === null ? null : degradedRecord === record ? namedRecord : recordOf(ownerWire, tailOf(degradedRecord));
  return { record, namedRecord, degradedRecord, degradedNamedRecord };
}

type MemberIdentity = Pick<ServedMember, 'owner' | 'address' | 'family' | 'cname' | 'probeKey' | 'probeAddress' | 'weight' | 'enabled' | 'alone'>;

/**
 * A member written as one literal, every property in the same order: built by spreading
 * (`{ ...common, ...forms }`) each member got a hidden class of its own, which made a
 * 10,000-name zone's compile leave ~35 MB of promoted garbage (the start-up peak) and gave the
 * answers' reads of members many shapes.
 */
function servedMember(identity: MemberIdentity, forms: ReturnType<typeof encodedForms>): ServedMember {
  return {
    owner: identity.owner,
    address: identity.address,
    family: identity.family,
    cname: identity.cname,
    probeKey: identity.probeKey,
    probeAddress: identity.probeAddress,
    weight: identity.weight,
    enabled: identity.enabled,
    record: forms.record,
    namedRecord: forms.namedRecord,
    degradedRecord: forms.degradedRecord,
    degradedNamedRecord: forms.degradedNamedRecord,
    alone: identity.alone,
  };
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
    const { weight, enabled } = member;
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
      return servedMember({ owner, address: probeAddress, family: null, cname: member.target, probeKey, probeAddress, weight, enabled, alone }, forms);
    }
    const rdata: RData = member.family === 4 ? { type: 'A', address: member.address } : { type: 'AAAA', address: member.address };
    const probeAddress = member.probe ?? member.address;
    const probeKey = check === null ? null : probeKeyOf(probeAddress, check);
    const forms = encodedForms(rdata, ttls.ttl, ttls.degradedTtl, ownerWire);
    return servedMember({ owner, address: member.address, family: member.family, cname: null, probeKey, probeAddress, weight, enabled, alone: null }, forms);
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
export function poolListsOf(routing: RoutingSource): (readonly string[])[] {
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
export function compileRouting(
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
