/**
 * zones/read-header: the zone's name, default TTL and `soa:` block. Without a readable name
 * nothing else is read (the records are relative to it).
 */
import type { Pair, YAMLMap } from 'yaml';
import { SOA_KEYS, TOP_LEVEL_KEYS } from './zone-schema.js';
import type { SoaSource } from './zone-source.js';
import type { AnyNode, ZoneReader } from './zone-reader.js';

/** The top-level keys and what the header says; null when the zone's name cannot be read. */
export interface ZoneHeader {
  top: Map<string, Pair>;
  zonePair: Pair;
  defaultTtl: number;
  soa: SoaSource | undefined;
  originPos: { line: number; col: number };
}

export function readHeader(reader: ZoneReader, root: YAMLMap): ZoneHeader | null {
  const top = reader.pairs(root, TOP_LEVEL_KEYS, 'the zone file');
  const zonePair = top.get('zone');
  if (!zonePair) {
    reader.report(root, 'missing-key', 'the zone file has no "zone:" (the zone\'s domain name)');
    return reader.stopBeforeRecords();
  }
  const zoneRaw = reader.string(reader.valueNode(zonePair), 'zone');
  if (zoneRaw === undefined) return reader.stopBeforeRecords();
  reader.origin = zoneRaw.toLowerCase().replace(/\.$/, '');
  if (!reader.validName(reader.origin)) {
    reader.report(reader.valueNode(zonePair), 'bad-name', `zone "${zoneRaw}" is not a valid domain name`);
    return reader.stopBeforeRecords();
  }
  const originPos = reader.position(reader.valueNode(zonePair));
  const defaultTtl = top.has('ttl') ? reader.seconds(reader.valueNode(top.get('ttl')), 'ttl') ?? 300 : 300;

  const soaPair = top.get('soa');
  let soa: SoaSource | undefined;
  if (!soaPair) reader.report(zonePair, 'missing-soa', `zone ${reader.origin} has no "soa:" block`);
  else soa = readSoa(reader, reader.valueNode(soaPair), defaultTtl);
  return { top, zonePair, defaultTtl, soa, originPos };
}

export function readSoa(reader: ZoneReader, node: AnyNode, defaultTtl: number): SoaSource | undefined {
  const map = reader.map(node, 'soa');
  if (!map) return undefined;
  const fields = reader.pairs(map, SOA_KEYS, 'soa');
  const need = (key: string): AnyNode => {
    const pair = fields.get(key);
    if (!pair) reader.report(map, 'missing-key', `soa needs "${key}"`);
    return reader.valueNode(pair);
  };
  const mnameNode = need('mname');
  const rnameNode = need('rname');
  const mname = mnameNode ? reader.targetName(mnameNode, 'soa mname') : undefined;
  const rname = rnameNode ? reader.targetName(rnameNode, 'soa rname', { warnOutside: false }) : undefined;
  const serial = fields.has('serial') ? reader.integer(reader.valueNode(fields.get('serial')), 'soa serial', 0, 0xffffffff) : undefined;
  const time = (key: string, fallback: number): number =>
    fields.has(key) ? reader.seconds(reader.valueNode(fields.get(key)), `soa ${key}`) ?? fallback : fallback;
  return {
    mname: mname ?? '',
    rname: rname ?? '',
    serial,
    refresh: time('refresh', 7200),
    retry: time('retry', 900),
    expire: time('expire', 1209600),
    minimum: time('minimum', 60),
    ttl: time('ttl', defaultTtl),
  };
}
