/**
 * The set of zones being served, found by name: immutable, replaced whole on reload. It holds
 * compiled zones, or anything else keyed by origin (the serving state's authorities).
 */
import type { CompiledZone } from './compiled-zone.js';

/** Names whose zone a catalog remembers; past it the memo starts afresh rather than grow. */
const FOUND_MEMO_ENTRIES = 16_384;

export class ZoneCatalog<Zone extends { readonly origin: string } = CompiledZone> {
  private readonly byOrigin: ReadonlyMap<string, Zone>;
  /**
   * Name → its zone (null: none), for the names asked: finding a zone walks the name's suffixes,
   * each a new string, while a name asked again is one Map lookup (the query path's names are
   * interned strings, hash already known). Dies with the catalog, which never changes.
   */
  private found = new Map<string, Zone | null>();

  constructor(readonly zones: readonly Zone[]) {
    this.byOrigin = new Map(zones.map((zone) => [zone.origin, zone]));
  }

  /** The zone with the longest origin that is a suffix of `lowerName`, or undefined (REFUSED). */
  findZone(lowerName: string): Zone | undefined {
    const known = this.found.get(lowerName);
    if (known !== undefined) return known ?? undefined;
    const zone = this.searchZone(lowerName);
    if (this.found.size >= FOUND_MEMO_ENTRIES) this.found = new Map();
    this.found.set(lowerName, zone ?? null);
    return zone;
  }

  private searchZone(lowerName: string): Zone | undefined {
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
