/** The set of zones being served: immutable, replaced whole on reload. */
import type { CompiledZone } from './compile-zone.js';

export class ZoneCatalog {
  private readonly byOrigin: ReadonlyMap<string, CompiledZone>;

  constructor(readonly zones: readonly CompiledZone[]) {
    this.byOrigin = new Map(zones.map((zone) => [zone.origin, zone]));
  }

  /** The zone with the longest origin that is a suffix of `lowerName`, or undefined (REFUSED). */
  findZone(lowerName: string): CompiledZone | undefined {
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
  zone(origin: string): CompiledZone | undefined {
    return this.byOrigin.get(origin);
  }
}

/** A catalog with no zones: everything is REFUSED. */
export const EMPTY_CATALOG = new ZoneCatalog([]);
