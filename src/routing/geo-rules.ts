/**
 * Geo rules → the ordered pool list for a client. Most specific wins: network, asn,
 * subdivision, country, continent, nearest, then default. The ECS scope returned is the
 * shortest prefix over which the same rule would win for every address, so resolvers can
 * cache per region without handing one region's answer to another.
 */
import type { ClientLocation } from '../geo/index.js';
import type { GeoRulesSource, NetworkRule } from '../zones/index.js';
import { greatCircleKm } from '../geo/index.js';

export type GeoRuleKind = 'network' | 'asn' | 'subdivision' | 'country' | 'continent' | 'nearest' | 'default';

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
}

function familyWidth(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function contains(rule: NetworkRule, bits: bigint, width: number): boolean {
  const shift = BigInt(width - rule.prefixLength);
  return bits >> shift === rule.bits >> shift;
}

/** Length of the common leading bits of two addresses. */
function commonPrefix(a: bigint, b: bigint, width: number): number {
  let diff = a ^ b;
  if (diff === 0n) return width;
  let bitsLeft = 0;
  while (diff > 0n) {
    diff >>= 1n;
    bitsLeft++;
  }
  return width - bitsLeft;
}

/**
 * The scope needed so that no network rule more specific than `floor` that the client is not
 * in falls inside the answered subnet.
 */
function scopeApartFromNetworks(rules: readonly NetworkRule[], client: RoutingClient, floor: number, skip: NetworkRule | null): number {
  let scope = floor;
  const width = familyWidth(client.family);
  let bits: bigint | undefined;
  for (const rule of rules) {
    if (rule === skip || rule.family !== client.family || rule.prefixLength <= floor) continue;
    bits ??= client.bits();
    if (contains(rule, bits, width)) continue;
    const split = commonPrefix(bits, rule.bits, width) + 1;
    if (split <= rule.prefixLength && split > scope) scope = split;
  }
  return scope;
}

/** Picks the pool list for a client from a name's geo rules. */
export function selectPoolList(rules: GeoRulesSource, client: RoutingClient): PoolListChoice {
  const width = familyWidth(client.family);
  if (rules.network.length > 0) {
    const bits = client.bits();
    for (const rule of rules.network) {
      if (rule.family === client.family && contains(rule, bits, width)) {
        return { pools: rule.pools, rule: 'network', ruleKey: rule.cidr, scope: scopeApartFromNetworks(rules.network, client, rule.prefixLength, rule) };
      }
    }
  }
  const location = client.location;
  let scope = 0;
  let choice: Omit<PoolListChoice, 'scope'> | undefined;
  if (rules.asn.size > 0) {
    scope = Math.max(scope, location.asnPrefixLength);
    const pools = location.asn === undefined ? undefined : rules.asn.get(location.asn);
    if (pools) choice = { pools, rule: 'asn', ruleKey: `AS${location.asn}` };
  }
  const usesLocation = rules.subdivision.size > 0 || rules.country.size > 0 || rules.continent.size > 0 || rules.nearest !== null;
  if (choice === undefined && usesLocation) {
    scope = Math.max(scope, location.locationPrefixLength);
    if (rules.subdivision.size > 0 && location.subdivisions) {
      for (let i = location.subdivisions.length - 1; i >= 0 && choice === undefined; i--) {
        const code = location.subdivisions[i]!;
        const pools = rules.subdivision.get(code);
        if (pools) choice = { pools, rule: 'subdivision', ruleKey: code };
      }
    }
    if (choice === undefined && location.country !== undefined) {
      const pools = rules.country.get(location.country);
      if (pools) choice = { pools, rule: 'country', ruleKey: location.country };
    }
    if (choice === undefined && location.continent !== undefined) {
      const pools = rules.continent.get(location.continent);
      if (pools) choice = { pools, rule: 'continent', ruleKey: location.continent };
    }
    if (choice === undefined && rules.nearest !== null && location.coordinates) {
      choice = { pools: rules.nearest, rule: 'nearest', ruleKey: null };
    }
  }
  choice ??= { pools: rules.default, rule: 'default', ruleKey: null };
  return { ...choice, scope: scopeApartFromNetworks(rules.network, client, scope, null) };
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
