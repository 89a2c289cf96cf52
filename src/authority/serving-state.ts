/**
 * The one reference the query path reads: the compiled zones, an Authority per zone, and the
 * parts answers depend on. Built off the query path whenever the catalog changes, and swapped
 * in whole.
 */
import { ZoneCatalog } from '../zones/index.js';
import type { Authority } from './authority.js';
import { ZoneAuthority, type ServingParts } from './zone-authority.js';

export interface ServingState extends ServingParts {
  /** The compiled zones (admin, metrics and explain read their index). */
  readonly catalog: ZoneCatalog;
  /** One Authority per zone of `catalog`, found by name the same way: what answers ask. */
  readonly authorities: ZoneCatalog<Authority>;
}

/**
 * The serving state for `catalog`. A zone that `previous` already served with the same parts
 * keeps its authority, so its routing cache stays warm across a reload of other zones.
 */
export function servingState(catalog: ZoneCatalog, parts: ServingParts, previous?: ServingState): ServingState {
  const kept = new Map<object, ZoneAuthority>();
  for (const authority of previous?.authorities.zones ?? []) {
    if (authority instanceof ZoneAuthority && authority.parts.health === parts.health && authority.parts.geo === parts.geo && authority.parts.random === parts.random && authority.parts.signing === parts.signing) {
      kept.set(authority.zone, authority);
    }
  }
  const authorities = catalog.zones.map((zone) => kept.get(zone) ?? new ZoneAuthority(zone, parts));
  return { catalog, authorities: new ZoneCatalog<Authority>(authorities), health: parts.health, geo: parts.geo, random: parts.random, signing: parts.signing ?? null };
}
