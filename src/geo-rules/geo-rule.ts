/**
 * geo-rules/geo-rule: what a kind of geo rule must say about itself — its key, how a zone file
 * writes it, which pool lists it can choose, how it chooses one for a client and what it adds
 * to the ECS scope. Each kind is one object meeting this contract (geo-rules/rules/).
 */
import type { YamlValue, ZoneValueReader } from '../records/index.js';
import type { RoutingClient } from '../routing/index.js';

/** The zone parser's readers, plus what geo rules need to know about the zone's pools. */
export interface GeoRuleReader {
  zone: ZoneValueReader;
  /** A list of pool names (or one), each a pool of the zone; undefined after a diagnostic. */
  poolList(node: YamlValue, what: string): string[] | undefined;
  /** Whether the named pool has a `location`. */
  poolHasLocation(name: string): boolean;
  /** Decides which country codes exist (the geo layer's ISO 3166 table). */
  isKnownCountry(code: string): boolean;
}

/** A rule's choice for one client. */
export interface GeoRuleMatch {
  pools: readonly string[];
  /** What matched, for the decision: "GB", "AS64500", "198.51.100.0/24"; null for a rule without keys. */
  ruleKey: string | null;
  /** The prefix length over which the match holds, when the rule knows it better than `consultedScope`. */
  scope?: number;
  /** Order the pools by distance from here (nearest first) before the first one up answers. */
  nearTo?: { lat: number; lon: number };
}

/**
 * One kind of geo rule. `Rules` is what the zone file's value compiles to (kept on the compiled
 * name as `GeoRulesSource[key]`). Written as methods, which TypeScript checks bivariantly, so
 * every kind fits `AnyGeoRule`.
 */
export interface GeoRule<Key extends string = string, Rules = unknown> {
  /** The key under `geo:`, the `rule` of a routing decision and its metric label. */
  readonly key: Key;
  /** Reads the value under the key, reporting what is wrong with it; undefined drops the whole geo block. */
  read(node: YamlValue, reader: GeoRuleReader): Rules | undefined;
  /** What the key means when the name leaves it out. */
  readonly absent: Rules;
  /** Set when every geo block must have the key: the message when it does not. */
  readonly required?: string;
  /** False when the name's rules of this kind can never match (none written). */
  inUse(rules: Rules): boolean;
  /** Every pool list these rules can choose, for compiling, probing and the all-down watch. */
  poolLists(rules: Rules): Iterable<readonly string[]>;
  /** The client's pool list under these rules, or null to fall through to the next kind. */
  select(rules: Rules, client: RoutingClient): GeoRuleMatch | null;
  /** The prefix length of the client data this kind reads (whether it matched or not). */
  consultedScope(client: RoutingClient): number;
  /** Widens the final scope so that no answered subnet spans a different rule of this kind. */
  narrowScope?(rules: Rules, client: RoutingClient, scope: number): number;
}

export type AnyGeoRule = GeoRule<string, unknown>;
