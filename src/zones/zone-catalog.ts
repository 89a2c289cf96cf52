/**
 * The set of zones being served, found by name: immutable, replaced whole on reload. It holds
 * compiled zones, or anything else keyed by origin (the serving state's authorities).
 */
import type { CompiledZone } from './compile-zone.js';

export class ZoneCatalog<Zone extends { readonly origin: string } = CompiledZone> {
  private readonly byOrigin: ReadonlyMap<string, Zone>;

  constructor(readonly zones: readonly Zone[]) {
    this.byOrigin = new Map(zones.map((zone) => [zone.origin, zone]));
  }

  /** The zone with the longest origin that is a suffix of `lowerName`, or undefined (REFUSED). */
  findZone(lowerName: string): Zone | undefined {
    let name = lowerName;
    for (;;) {
      const zone = this.byOrigin.get(name);
      if (zone !== undefined) return zone;
      const dot = name.indexOf('.');
      if (dot < 0) return name === '' ? undefined : this.byOrigin.get('');
      name = name.slice(dot + 1);
    }
  }

  /** The zone with exactly this origin. */
  zone(origin: string): Zone | undefined {
    return this.byOrigin.get(origin);
  }
}

/** A catalog with no zones: everything is REFUSED. */
export const EMPTY_CATALOG = new ZoneCatalog<CompiledZone>([]);
