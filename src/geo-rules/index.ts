/**
 * geo-rules/: the kinds of geo rule a routed name can use, one descriptor each (rules/),
 * registered in one table (geo-rule-table.ts), most specific first. A descriptor owns all that is
 * particular to its kind: the key under `geo:` and its validation, the pool lists it can choose,
 * its choice for a client, its part of the ECS scope, and its label in decisions and metrics.
 * Selection runs on the query path: pure, no I/O, no allocation beyond the choice.
 */
export type { AnyGeoRule, GeoRule, GeoRuleMatch, GeoRuleReader } from './geo-rule.js';
export { GEO_RULES, GEO_RULE_LIST, geoPoolLists, rulesOf, type GeoRuleKind, type GeoRulesSource } from './geo-rule-table.js';
export type { NetworkRule } from './rules/network.js';
