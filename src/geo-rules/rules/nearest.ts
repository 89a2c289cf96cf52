/**
 * geo-rules/rules/nearest: `nearest: [pools]`, each with a `location`, tried nearest first by
 * great-circle distance from the client's coordinates (the database's, else its country's centre).
 */
import type { GeoRule } from '../geo-rule.js';

export const nearest: GeoRule<'nearest', readonly string[] | null> = {
  key: 'nearest',
  read(node, reader) {
    const pools = reader.poolList(node, 'geo nearest') ?? null;
    for (const name of pools ?? []) {
      if (!reader.poolHasLocation(name)) {
        reader.zone.report(node, 'missing-location', `pool "${name}" is used by nearest but has no location: { lat, lon }`);
      }
    }
    return pools;
  },
  absent: null,
  inUse: (pools) => pools !== null,
  poolLists: (pools) => (pools ? [pools] : []),
  select: (pools, client) => (pools !== null && client.location.coordinates ? { pools, ruleKey: null, nearTo: client.location.coordinates } : null),
  consultedScope: (client) => client.location.locationPrefixLength,
};
