/**
 * geo-rules/geo-rule-table: the one table of geo rule kinds, most specific first — the order
 * in which they are tried for a client. Adding a kind is a file in rules/ and a line here; the
 * zone format, compilation, routing, the ECS scope and the routed-answer metrics read this table.
 */
import type { AnyGeoRule, GeoRule } from './geo-rule.js';
import { asn } from './rules/asn.js';
import { continent } from './rules/continent.js';
import { country } from './rules/country.js';
import { defaultRule } from './rules/default.js';
import { nearest } from './rules/nearest.js';
import { network } from './rules/network.js';
import { subdivision } from './rules/subdivision.js';

export const GEO_RULES = [network, asn, subdivision, country, continent, nearest, defaultRule] as const;

type GeoRuleList = (typeof GEO_RULES)[number];
export type GeoRuleKind = GeoRuleList['key'];

/** A name's geo rules as compiled from its `geo:` block: each kind's rules under its key. */
export type GeoRulesSource = { readonly [R in GeoRuleList as R['key']]: R extends GeoRule<string, infer Rules> ? Rules : never };

/** The kinds as the generic code walks them. */
export const GEO_RULE_LIST: readonly AnyGeoRule[] = GEO_RULES;

/** The rules of one kind in a name's geo block. */
export function rulesOf(rules: GeoRulesSource, kind: AnyGeoRule): unknown {
  return (rules as Readonly<Record<string, unknown>>)[kind.key];
}

/** Every pool list a name's geo rules can choose, in the order the kinds are tried. */
export function geoPoolLists(rules: GeoRulesSource): (readonly string[])[] {
  const lists: (readonly string[])[] = [];
  for (const kind of GEO_RULE_LIST) for (const list of kind.poolLists(rulesOf(rules, kind))) lists.push(list);
  return lists;
}
