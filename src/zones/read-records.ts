/**
 * zones/read-records: the `records:` section, whole or piece by piece: each name's records
 * (read by their record types), TTL and routing (geo, failover or pool).
 */
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { genericTypeCode, recordTypeNamed, recordTypeOfCode, refusedGenericCode, ZONE_FILE_RECORD_TYPES, type AnyRecordType, type RData } from '../records/index.js';
import { readGeo } from './read-geo.js';
import { poolList } from './read-pools.js';
import { ParseWhole, PIECE_PREFIX, type RecordsSplit } from './split-records.js';
import { NAME_KEYS } from './zone-schema.js';
import { routedPoolNames, type NameSource, type PoolSource, type RoutingSource, type WhenAllDown } from './zone-source.js';
import type { AnyNode, ZoneReader } from './zone-reader.js';

/**
 * `records:` read piece by piece (see splitRecords): each piece is parsed as a document of its
 * own, read, and dropped before the next. Names already defined in an earlier piece, and any
 * YAML error, send the file to a whole parse so the messages are the ones it gives.
 */
export function readRecordPieces(
  reader: ZoneReader,
  source: string,
  split: RecordsSplit,
  defaultTtl: number,
  pools: ReadonlyMap<string, PoolSource>,
  afterPiece: (() => void) | undefined,
): NameSource[] {
  const names: NameSource[] = [];
  const seen = new Set<string>();
  for (const [start, end] of split.pieces) {
    const document = parseDocument(PIECE_PREFIX + source.slice(start, end), { prettyErrors: false, uniqueKeys: true });
    if (document.errors.length > 0 || !isMap(document.contents)) throw new ParseWhole();
    const records = document.contents.items[0];
    if (document.contents.items.length !== 1 || !isMap(records?.value)) throw new ParseWhole();
    reader.readingPiece(start - PIECE_PREFIX.length);
    const before = seen.size + records.value.items.length;
    readRecordEntries(reader, records.value, defaultTtl, pools, seen, names);
    if (seen.size < before) throw new ParseWhole(); // a name defined twice (or a bad key): parse whole
    afterPiece?.();
  }
  reader.readingHeader();
  return names;
}

export function readRecords(reader: ZoneReader, node: AnyNode, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>): NameSource[] {
  const map = reader.map(node, 'records');
  if (!map) return [];
  const names: NameSource[] = [];
  readRecordEntries(reader, map, defaultTtl, pools, new Set(), names);
  return names;
}

export function readRecordEntries(reader: ZoneReader, map: YAMLMap, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>, seen: Set<string>, names: NameSource[]): void {
  for (const pair of map.items) {
    const raw = isScalar(pair.key) ? String(pair.key.value) : '';
    const name = reader.ownerName(pair.key as AnyNode, raw);
    if (name === undefined) continue;
    if (seen.has(name)) {
      reader.report(pair, 'bad-value', `"${raw}" names ${name}, which is already defined above`);
      continue;
    }
    seen.add(name);
    const spec = reader.map(reader.valueNode(pair), `"${raw}"`);
    if (!spec) continue;
    const entry = readName(reader, name, spec, defaultTtl, pools);
    if (entry) names.push(entry);
  }
}

export function readName(reader: ZoneReader, name: string, spec: YAMLMap, defaultTtl: number, pools: ReadonlyMap<string, PoolSource>): NameSource | undefined {
  // Types without a name of their own are written TYPE<code> (RFC 3597): each such key is allowed.
  const genericKeys = spec.items.flatMap((pair) => (isScalar(pair.key) && genericTypeCode(String(pair.key.value)) !== undefined ? [String(pair.key.value)] : []));
  const fields = reader.pairs(spec, genericKeys.length === 0 ? NAME_KEYS : [...NAME_KEYS, ...genericKeys], name === reader.origin ? 'the apex "@"' : `"${name}"`);
  const ttl = fields.has('ttl') ? reader.seconds(reader.valueNode(fields.get('ttl')), 'ttl') ?? defaultTtl : defaultTtl;
  const records = new Map<RData['type'], RData[]>();
  for (const type of ZONE_FILE_RECORD_TYPES) {
    const pair = fields.get(type.name);
    if (!pair) continue;
    const rdatas = readRRset(reader, type, reader.valueNode(pair));
    records.set(type.name as RData['type'], rdatas);
  }
  for (const key of genericKeys) {
    const code = genericTypeCode(key)!;
    const refused = refusedGenericCode(code, recordTypeOfCode(code)?.name);
    if (refused !== undefined) reader.report(fields.get(key), 'bad-value', refused);
    else records.set(key as RData['type'], readRRset(reader, recordTypeNamed(key as RData['type']), reader.valueNode(fields.get(key))));
  }
  // RFC 4035 §2.4: DS is the parent's record of a signed child, kept beside the delegation's NS.
  if (fields.has('DS') && (name === reader.origin || !fields.has('NS'))) {
    reader.report(fields.get('DS'), 'bad-value', 'DS belongs at a delegation, beside its NS records (RFC 4035 §2.4): the parent answers it for the child');
  }
  const routingKeys = ['geo', 'failover', 'pool'].filter((key) => fields.has(key));
  if (routingKeys.length > 1) {
    reader.report(fields.get(routingKeys[1]!), 'routing-conflict', `a name routes with one of geo, failover or pool, not ${routingKeys.join(' and ')}`);
  }
  let routing: RoutingSource | null = null;
  if (fields.has('geo')) {
    const rules = readGeo(reader, reader.valueNode(fields.get('geo')), pools);
    if (rules) routing = { kind: 'geo', rules };
  } else if (fields.has('failover')) {
    const list = poolList(reader, reader.valueNode(fields.get('failover')), pools, 'failover');
    if (list) routing = { kind: 'failover', pools: list };
  } else if (fields.has('pool')) {
    const poolNode = reader.valueNode(fields.get('pool'));
    if (isSeq(poolNode)) reader.report(poolNode, 'bad-type', 'pool names one pool; use failover: [a, b] for an ordered list');
    else {
      const list = poolList(reader, poolNode, pools, 'pool');
      if (list?.[0] !== undefined) routing = { kind: 'pool', pools: [list[0]] };
    }
  }
  let whenAllDown: WhenAllDown = 'fail-open';
  if (fields.has('when_all_down')) {
    const value = reader.scalar(reader.valueNode(fields.get('when_all_down')));
    if (value === 'fail-open' || value === 'fail-closed') whenAllDown = value;
    else reader.report(reader.valueNode(fields.get('when_all_down')), 'bad-value', 'when_all_down is fail-open or fail-closed');
    if (routingKeys.length === 0) reader.report(fields.get('when_all_down'), 'bad-value', 'when_all_down applies only to a name with geo, failover or pool');
  }

  if (fields.has('CNAME')) {
    const cname = records.get('CNAME')?.[0];
    if (cname?.type === 'CNAME') reader.cnames.set(name, { target: cname.target, ...reader.position(fields.get('CNAME')) });
    const others = [...fields.keys()].filter((key) => key !== 'CNAME' && key !== 'ttl');
    if (others.length > 0) {
      reader.report(fields.get('CNAME'), 'cname-with-other-data', `a CNAME cannot stand beside other data (${others.join(', ')}) at ${name} (RFC 1034 §3.6.2)`);
    }
    if (name === reader.origin) reader.report(fields.get('CNAME'), 'cname-with-other-data', 'the zone apex cannot be a CNAME: it holds the SOA and NS records');
  }
  // RFC 4592 §4.2: NS at a wildcard has no defined meaning (a referral for every name below it).
  if (name.startsWith('*.') && fields.has('NS')) {
    reader.report(fields.get('NS'), 'bad-value', `a wildcard cannot hold NS records (RFC 4592 §4.2); delegate each child by its own name`);
  }
  if (routingKeys.length > 0) {
    for (const type of ['A', 'AAAA'] as const) {
      if (fields.has(type)) reader.report(fields.get(type), 'routing-conflict', `${type} records beside ${routingKeys[0]} at ${name}: the pools provide the addresses`);
    }
  }
  // A name that can answer a CNAME (from a pool of names) holds nothing else (RFC 1034 §3.6.2).
  const namePool = routing === null ? undefined : routedPoolNames(routing).find((pool) => pools.get(pool)?.holds === 'names');
  if (namePool !== undefined) {
    const others = [...records.keys()].filter((type) => !(type === 'A' || type === 'AAAA'));
    if (others.length > 0) {
      reader.report(fields.get(others[0]!), 'cname-with-other-data', `${others.join(', ')} beside ${routingKeys[0]} at ${name}: its pool "${namePool}" answers a CNAME, which cannot stand beside other data (RFC 1034 §3.6.2)`);
    }
  }
  let degradedTtl: number | null = null;
  if (fields.has('degraded_ttl')) {
    const pair = fields.get('degraded_ttl');
    degradedTtl = reader.seconds(reader.valueNode(pair), 'degraded_ttl') ?? null;
    if (routingKeys.length === 0) reader.report(pair, 'bad-value', 'degraded_ttl applies only to a name with geo, failover or pool');
    else if (degradedTtl !== null && degradedTtl > ttl) {
      reader.report(reader.valueNode(pair), 'bad-value', `degraded_ttl (${degradedTtl}) is longer than the name's ttl (${ttl}): resolvers would keep a degraded answer longer than a healthy one`);
    }
  }
  return { name, ttl, degradedTtl, records, routing, whenAllDown };
}

export function readRRset(reader: ZoneReader, type: AnyRecordType, node: AnyNode): RData[] {
  const out: RData[] = [];
  const seen = new Set<string>();
  const onlyOne = type.yaml?.onlyOne;
  if (onlyOne !== undefined && isSeq(node)) {
    reader.report(node, 'bad-type', onlyOne);
    return out;
  }
  for (const item of onlyOne === undefined ? reader.list(node) : [node]) {
    const data = type.yaml?.read(item, reader);
    if (data === undefined) continue;
    const rdata = { type: type.name, ...(data as object) } as RData;
    const key = JSON.stringify(rdata);
    if (seen.has(key)) {
      reader.report(item, 'duplicate-record', `duplicate ${type.name} record (an RRset holds each record once, RFC 2181 §5)`);
      continue;
    }
    seen.add(key);
    out.push(rdata);
  }
  const problem = type.checkRRset?.(out);
  if (problem !== undefined) reader.report(node, 'bad-value', problem);
  return out;
}
