/**
 * The zones a server serves, as the files on disk last said: the last good compiled version of
 * each file (a broken edit keeps the previous version serving), each file's diagnostics, the
 * serials, and the reload decisions (unchanged, compile, reject, unload, first file wins). Given
 * the files a read produced, `apply` works out the next catalog; it binds no socket and probes
 * nothing, so it is tested on its own.
 */
import type { ZoneFileState } from '../admin/index.js';
import { probeKeyOf } from '../health/index.js';
import type { Logger } from '../telemetry/index.js';
import {
  compileZone,
  compileZoneAsync,
  formatDiagnostic,
  SerialKeeper,
  ZoneCatalog,
  type CompiledZone,
  type FileLoad,
} from '../zones/index.js';
import { SLICE_MS } from './run-in-slices.js';

/** What one read of the zone files changed. */
export interface ZoneSetChange {
  /** The catalog to serve next (not yet served: the caller swaps it in). */
  catalog: ZoneCatalog;
  loaded: string[];
  failed: string[];
  unloaded: string[];
}

export class ZoneSet {
  /** Last good compiled zone per file. */
  private readonly lastGood = new Map<string, CompiledZone>();
  private readonly fileStates = new Map<string, ZoneFileState>();
  private readonly serials = new SerialKeeper();
  /** File loads after start-up, by result. */
  readonly reloads = { ok: 0, failed: 0 };

  /** `announce` says zone loads, rejections and removals (silent in a cluster worker: the primary says them). */
  constructor(private readonly announce: Logger) {}

  /** Every file's state, in the order the files were first seen. */
  files(): ZoneFileState[] {
    return [...this.fileStates.values()];
  }

  /** The zones served and their serials (what the fleet's presence record says). */
  servedSerials(): { zone: string; serial: number }[] {
    return this.files().flatMap((file) => (file.origin !== null && file.serial !== null ? [{ zone: file.origin, serial: file.serial }] : []));
  }

  /**
   * Takes in one read of the zone files. At start-up (`reload: false`) zones compile in one go;
   * after it, in slices between answers, and each file's result counts as a reload.
   */
  async apply(loads: readonly FileLoad[], { reload }: { reload: boolean }): Promise<ZoneSetChange> {
    const change: Omit<ZoneSetChange, 'catalog'> = { loaded: [], failed: [], unloaded: [] };
    const seen = new Set<string>();
    const now = new Date().toISOString();
    for (const load of loads) {
      seen.add(load.file);
      const previous = this.lastGood.get(load.file);
      if (load.ok) {
        if (previous && previous.contentHash === load.source.contentHash) {
          // Unchanged (or reverted to the version being served): nothing to compile.
          const known = this.fileStates.get(load.file);
          if (known && !known.ok) this.fileStates.set(load.file, { ...known, ok: true, diagnostics: [] });
          continue;
        }
        const serial = this.serials.serialFor(load.source);
        let zone: CompiledZone;
        if (reload) zone = await compileZoneAsync(load.source, serial, probeKeyOf, SLICE_MS);
        else zone = compileZone(load.source, serial, probeKeyOf);
        this.lastGood.set(load.file, zone);
        this.fileStates.set(load.file, { file: load.file, origin: zone.origin, serial: zone.serial, ok: true, diagnostics: [], loadedAt: now });
        change.loaded.push(load.file);
        if (reload) this.reloads.ok++;
        this.announce.info({ zone: zone.origin, file: load.file, serial: zone.serial, names: zone.nodes.size }, 'zone loaded');
        for (const w of load.source.warnings) this.announce.warn({ file: w.file, line: w.line, col: w.col, code: w.code, zone: zone.origin }, formatDiagnostic(w));
      } else {
        this.fileStates.set(load.file, {
          file: load.file,
          origin: previous?.origin ?? null,
          serial: previous?.serial ?? null,
          ok: false,
          diagnostics: load.diagnostics,
          loadedAt: this.fileStates.get(load.file)?.loadedAt ?? now,
        });
        change.failed.push(load.file);
        if (reload) this.reloads.failed++;
        for (const d of load.diagnostics) {
          this.announce.error({ file: d.file, line: d.line, col: d.col, code: d.code, zone: previous?.origin }, formatDiagnostic(d));
        }
        if (previous) this.announce.warn({ zone: previous.origin, file: load.file, serial: previous.serial }, 'zone file rejected; still serving the last good version');
      }
    }
    for (const [file, zone] of [...this.lastGood]) {
      if (seen.has(file)) continue;
      this.announce.info({ zone: zone.origin, file }, 'zone file removed; zone unloaded');
      this.lastGood.delete(file);
      change.unloaded.push(file);
    }
    for (const file of [...this.fileStates.keys()]) if (!seen.has(file)) this.fileStates.delete(file);
    return { ...change, catalog: this.catalog() };
  }

  /** The last good zones, one per origin: a last-good zone must not shadow a file that now defines the same origin validly. */
  private catalog(): ZoneCatalog {
    const byOrigin = new Map<string, CompiledZone>();
    for (const [file, zone] of [...this.lastGood].sort(([a], [b]) => a.localeCompare(b))) {
      if (!byOrigin.has(zone.origin)) byOrigin.set(zone.origin, zone);
      else this.announce.warn({ zone: zone.origin, file }, 'zone defined twice; keeping the first file');
    }
    return new ZoneCatalog([...byOrigin.values()]);
  }
}
