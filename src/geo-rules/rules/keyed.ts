/**
 * geo-rules/rules/keyed: the shape most geo rules share in a zone file — a mapping from a key
 * (a country, a continent, an AS number) to a pool list.
 */
import type { YamlValue } from '../../records/index.js';
import type { RoutingClient } from '../../routing/index.js';
import type { GeoRule, GeoRuleMatch, GeoRuleReader } from '../geo-rule.js';

/** Reads `{ KEY: [pools] }` under `geo: <key>`; keys that `parseKey` rejects are reported by it and dropped. */
export function readKeyed<K>(
  key: string,
  node: YamlValue,
  reader: GeoRuleReader,
  parseKey: (raw: unknown, keyNode: YamlValue) => K | undefined,
): Map<K, string[]> {
  const out = new Map<K, string[]>();
  const zone = reader.zone;
  const rules = zone.map(node, `geo ${key}`);
  if (!rules) return out;
  for (const rule of rules.items) {
    const parsed = parseKey(zone.scalar(rule.key as YamlValue), rule.key as YamlValue);
    const list = reader.poolList(zone.valueNode(rule), `geo ${key}`);
    if (parsed !== undefined && list) out.set(parsed, list);
  }
  return out;
}

type KeyedRules<K> = ReadonlyMap<K, readonly string[]>;

/** A geo rule of the `{ KEY: [pools] }` shape: what is particular to it is its keys and its lookup. */
export function keyedRule<Key extends string, K>(spec: {
  key: Key;
  /** The key as written → its value, or undefined after reporting why it is not one. */
  parseKey(raw: unknown, keyNode: YamlValue, reader: GeoRuleReader): K | undefined;
  select(rules: KeyedRules<K>, client: RoutingClient): GeoRuleMatch | null;
  consultedScope(client: RoutingClient): number;
}): GeoRule<Key, KeyedRules<K>> {
  return {
    key: spec.key,
    read: (node, reader) => readKeyed(spec.key, node, reader, (raw, keyNode) => spec.parseKey(raw, keyNode, reader)),
    absent: new Map(),
    inUse: (rules) => rules.size > 0,
    poolLists: (rules) => rules.values(),
    select: spec.select,
    consultedScope: spec.consultedScope,
  };
}

/** The pools for a location code, as a match (country, continent). */
export function lookup(rules: KeyedRules<string>, code: string | undefined): GeoRuleMatch | null {
  const pools = code === undefined ? undefined : rules.get(code);
  return pools ? { pools, ruleKey: code! } : null;
}
