/**
 * zones/read-geo: a name's `geo:` block. Each key is read by its geo rule kind (src/geo-rules),
 * which reports what is wrong with its value.
 */
import { GEO_RULE_LIST, type GeoRuleReader, type GeoRulesSource } from '../geo-rules/index.js';
import { poolList } from './read-pools.js';
import { GEO_KEYS } from './zone-schema.js';
import type { PoolSource } from './zone-source.js';
import type { AnyNode, ZoneReader } from './zone-reader.js';

export function readGeo(reader: ZoneReader, node: AnyNode, pools: ReadonlyMap<string, PoolSource>): GeoRulesSource | undefined {
  const map = reader.map(node, 'geo');
  if (!map) return undefined;
  const fields = reader.pairs(map, GEO_KEYS, 'geo');
  const isKnownCountry = reader.isKnownCountry ?? ((code: string) => /^[A-Z]{2}$/.test(code));
  const ruleReader: GeoRuleReader = {
    zone: reader,
    poolList: (value, what) => poolList(reader, value, pools, what),
    poolHasLocation: (name) => Boolean(pools.get(name)?.location),
    isKnownCountry,
  };
  const rules: Record<string, unknown> = {};
  let complete = true;
  for (const kind of GEO_RULE_LIST) {
    const pair = fields.get(kind.key);
    if (pair === undefined) {
      if (kind.required !== undefined) {
        reader.report(map, 'missing-key', kind.required);
        complete = false;
      }
      rules[kind.key] = kind.absent;
      continue;
    }
    const value = kind.read(reader.valueNode(pair), ruleReader);
    if (value === undefined) complete = false;
    rules[kind.key] = value;
  }
  return complete ? (rules as GeoRulesSource) : undefined;
}
