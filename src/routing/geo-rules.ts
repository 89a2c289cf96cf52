/**
 * Geo rules → the ordered pool list for a client. The kinds (geo-rules/) are tried most
 * specific first: network, asn, subdivision, country, continent, nearest, then default. The
 * ECS scope returned is the shortest prefix over which the same rule would win for every
 * address, so resolvers can cache per region without handing one region's answer to another.
 */
import type { ClientLocation } from '../geo/index.js';
import { greatCircleKm } from '../geo/index.js';
import { GEO_RULE_LIST, rulesOf, type GeoRuleKind, type GeoRulesSource } from '../geo-rules/index.js';

export type { GeoRuleKind } from '../geo-rules/index.js';

/** Who is asking, as far as routing cares. */
export interface RoutingClient {
  /** The ECS address or the source address (IPv4 never in ::ffff: form). */
  address: string;
  family: 4 | 6;
  /** The address as 32 or 128 bits, computed only when network rules need it. */
  bits: () => bigint;
  location: ClientLocation;
}

export interface PoolListChoice {
  pools: readonly string[];
  rule: GeoRuleKind;
  ruleKey: string | null;
  scope: number;
  /** Try the pools nearest first from here (the nearest rule). */
  nearTo?: { lat: number; lon: number };
}

/** Picks the pool list for a client from a name's geo rules. */
export function selectPoolList(rules: GeoRulesSource, client: RoutingClient): PoolListChoice {
  let scope = 0;
  for (const kind of GEO_RULE_LIST) {
    const own = rulesOf(rules, kind);
    if (!kind.inUse(own)) continue;
    // The data a kind reads bounds the scope whether or not it matched: a later rule's answer
    // holds only as far as this one would still not match.
    scope = Math.max(scope, kind.consultedScope(client));
    const match = kind.select(own, client);
    if (match === null) continue;
    scope = Math.max(scope, match.scope ?? 0);
    for (const narrowing of GEO_RULE_LIST) if (narrowing.narrowScope) scope = narrowing.narrowScope(rulesOf(rules, narrowing), client, scope);
    return { pools: match.pools, rule: kind.key as GeoRuleKind, ruleKey: match.ruleKey, scope, nearTo: match.nearTo };
  }
  // `default` is required and always matches.
  throw new Error('geo rules without a default');
}

/** Orders pools by great-circle distance from the client (nearest first; ties keep zone order). */
export function orderByDistance<T extends { location: { lat: number; lon: number } | null }>(
  pools: readonly T[],
  from: { lat: number; lon: number },
): T[] {
  return pools
    .map((pool, index) => ({ pool, index, km: pool.location ? greatCircleKm(from, pool.location) : Infinity }))
    .sort((a, b) => a.km - b.km || a.index - b.index)
    .map((entry) => entry.pool);
}
