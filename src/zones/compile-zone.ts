/**
 * ZoneSource → CompiledZone: everything the query path needs, computed once per load.
 * Names are lower-cased keys, empty non-terminals exist as nodes, every record is encoded
 * with its owner as a pointer to the question, and again with the owner written out where an
 * answer can need it (CNAME targets, delegations), and the negative answer's SOA carries its
 * RFC 2308 TTL already. The zone's shape is compiled-zone.ts; routed names compile-routed-name.ts.
 */
import { encodeRecordTail, recordTypeNamed, recordTypeOfCode, TYPE_CODES_FOR_ANY, type RData } from '../records/index.js';
import { recordOf, RRType } from '../wire/index.js';
import { compileRouting, poolListsOf } from './compile-routed-name.js';
import { withOwnerWritten, type CompiledNode, type CompiledRRset, type CompiledZone, type ProbedMember, type ProbeKeyOf, type RoutedList, type RoutedName, type ServedPool } from './compiled-zone.js';
import type { CheckSource, NameSource, ZoneSource } from './zone-source.js';

const NO_BUFFERS: readonly Buffer[] = [];

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
