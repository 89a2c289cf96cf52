/** zones/read-geo: a name's `geo:` rules, each key checked against what it may hold. */
import { isIP } from 'node:net';
import { addressBits, canonicalAddress } from './addresses.js';
import { poolList } from './read-pools.js';
import { CONTINENT_CODES, GEO_KEYS } from './zone-schema.js';
import type { GeoRulesSource, NetworkRule, PoolSource } from './zone-source.js';
import type { AnyNode, ZoneReader } from './zone-reader.js';

export function readGeo(reader: ZoneReader, node: AnyNode, pools: ReadonlyMap<string, PoolSource>): GeoRulesSource | undefined {
  const map = reader.map(node, 'geo');
  if (!map) return undefined;
  const fields = reader.pairs(map, GEO_KEYS, 'geo');
  const keyed = <K>(key: string, parseKey: (raw: unknown, keyNode: AnyNode) => K | undefined): Map<K, string[]> => {
    const out = new Map<K, string[]>();
    if (!fields.has(key)) return out;
    const rules = reader.map(reader.valueNode(fields.get(key)), `geo ${key}`);
    if (!rules) return out;
    for (const rule of rules.items) {
      const parsed = parseKey(reader.scalar(rule.key as AnyNode), rule.key as AnyNode);
      const list = poolList(reader, reader.valueNode(rule), pools, `geo ${key}`);
      if (parsed !== undefined && list) out.set(parsed, list);
    }
    return out;
  };
  const isKnownCountry = reader.isKnownCountry ?? ((code: string) => /^[A-Z]{2}$/.test(code));
  const country = keyed('country', (raw, keyNode) => {
    const code = String(raw);
    if (!isKnownCountry(code)) {
      reader.report(keyNode, 'unknown-country', `"${code}" is not an ISO 3166-1 alpha-2 country code (upper case, like GB)`);
      return undefined;
    }
    return code;
  });
  const continent = keyed('continent', (raw, keyNode) => {
    const code = String(raw);
    if (!CONTINENT_CODES.includes(code)) {
      reader.report(keyNode, 'unknown-continent', `"${code}" is not a continent code (${CONTINENT_CODES.join(', ')})`);
      return undefined;
    }
    return code;
  });
  const subdivision = keyed('subdivision', (raw, keyNode) => {
    const code = String(raw);
    const match = /^([A-Z]{2})-([A-Z0-9]{1,3})$/.exec(code);
    if (!match || !isKnownCountry(match[1]!)) {
      reader.report(keyNode, 'bad-subdivision', `"${code}" is not an ISO 3166-2 subdivision code (country-subdivision, like US-CA)`);
      return undefined;
    }
    return code;
  });
  const asn = keyed('asn', (raw, keyNode) => {
    const text = String(raw).replace(/^AS/i, '');
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < 1 || value > 0xffffffff) {
      reader.report(keyNode, 'bad-value', `"${String(raw)}" is not an AS number (like 64500 or AS64500)`);
      return undefined;
    }
    return value;
  });
  const networks = keyed('network', (raw, keyNode) => cidr(reader, raw, keyNode));
  const network: NetworkRule[] = [];
  for (const [rule, list] of networks) network.push({ ...rule, pools: list });
  // Longest prefix first, so the first match is the most specific.
  network.sort((a, b) => b.prefixLength - a.prefixLength);

  let nearest: string[] | null = null;
  if (fields.has('nearest')) {
    nearest = poolList(reader, reader.valueNode(fields.get('nearest')), pools, 'geo nearest') ?? null;
    for (const name of nearest ?? []) {
      if (!pools.get(name)?.location) {
        reader.report(reader.valueNode(fields.get('nearest')), 'missing-location', `pool "${name}" is used by nearest but has no location: { lat, lon }`);
      }
    }
  }
  let defaults: string[] | undefined;
  if (!fields.has('default')) reader.report(map, 'missing-key', 'geo needs a default: [pools] for clients no rule matches');
  else defaults = poolList(reader, reader.valueNode(fields.get('default')), pools, 'geo default');
  if (!defaults) return undefined;
  return { network, asn, subdivision, country, continent, nearest, default: defaults };
}

export function cidr(reader: ZoneReader, raw: unknown, node: AnyNode): Omit<NetworkRule, 'pools'> | undefined {
  const text = String(raw);
  const [address = '', prefixText, extra] = text.split('/');
  const family = address.includes('%') ? 0 : isIP(address);
  const prefixLength = Number(prefixText);
  const max = family === 4 ? 32 : 128;
  if ((family !== 4 && family !== 6) || extra !== undefined || prefixText === undefined || !/^\d+$/.test(prefixText) || prefixLength > max) {
    reader.report(node, 'bad-cidr', `"${text}" is not a network in CIDR form (192.0.2.0/24, 2001:db8::/32)`);
    return undefined;
  }
  const bits = addressBits(address, family);
  const hostBits = BigInt(max - prefixLength);
  if ((bits & ((1n << hostBits) - 1n)) !== 0n) {
    reader.report(node, 'bad-cidr', `"${text}" has host bits set beyond /${prefixLength}`);
    return undefined;
  }
  return { cidr: `${canonicalAddress(address, family)}/${prefixLength}`, family, prefixLength, bits };
}
