/**
 * Zones into a running server: read the files off-thread, let the ZoneSet decide, bring the
 * health targets along (members new to a load are probed before the swap), swap the catalog in,
 * and have the all-down watch review. One reload at a time; a reload that fails as a whole is
 * logged and counted here, so it never goes unnoticed in any process of a cluster.
 */
import type { HealthMonitor } from '../health/index.js';
import { reasonOf, type Logger } from '../telemetry/index.js';
import { RevisionRejectedError } from '../zone-revisions/index.js';
import type { ZoneCatalog } from '../zones/index.js';
import type { AllDownWatch } from './all-down-watch.js';
import { summariseFirstProbes } from './down-summary.js';
import { readZonePathOffThread } from './read-zones-off-thread.js';
import type { ZoneSet } from './zone-set.js';
import { probeTargets } from './zone-index.js';

export interface ReloadReport {
  loaded: string[];
  failed: string[];
  unloaded: string[];
  /** Settles when members that are new in this load have had their first probe. */
  firstProbes: Promise<void>;
}

export interface ZoneLoaderParts {
  zonesPath: string;
  /**
   * Folders are fleet revisions (--zones-from-fleet): files are named relative to the folder (a
   * file keeps its name from one revision's folder to the next, so an unchanged zone is not
   * compiled again), and a folder loads whole or not at all.
   */
  wholeFolders?: boolean;
  /** Keep a parser thread booted between reloads (ServerOptions.keepParserWarm). */
  keepParserWarm: boolean;
  zones: ZoneSet;
  /** The monitor probing the members; null when nothing is probed here (health off, cluster worker). */
  probes: HealthMonitor | null;
  /** The catalog the answers read, and its swap. */
  catalog: { current(): ZoneCatalog; swap(catalog: ZoneCatalog): void };
  allDown: AllDownWatch;
  /** Says what every process of a cluster would repeat (silent in a worker). */
  announce: Logger;
  logger: Logger;
}

export class ZoneLoader {
  /** Reloads that failed as a whole (zones folder unreadable, parser thread lost). */
  reloadErrors = 0;
  private reloading: Promise<ReloadReport> | null = null;
  private zonesPath: string;

  constructor(private readonly parts: ZoneLoaderParts) {
    this.zonesPath = parts.zonesPath;
  }

  /** The folder (or file) the zones are read from. */
  get path(): string {
    return this.zonesPath;
  }

  /**
   * The first load. As gdnsd does, the first probe of every member finishes (bounded by its
   * timeout) before the first answer, so answers reflect health from the start; then one line
   * says what the first probes found down.
   */
  async start(path = this.zonesPath): Promise<void> {
    const { probes, allDown, announce } = this.parts;
    const initial = await this.load(false, path);
    if (probes !== null) {
      await probes.start();
      await initial.firstProbes;
    }
    const downAtStart = allDown.startQuietly();
    if (probes !== null) {
      const summary = summariseFirstProbes(probes.snapshot().targets, downAtStart);
      announce[summary.level](summary.fields, summary.msg);
    }
  }

  /** Reloads the zone files: one reload at a time, a second waits for the first, then reads afresh. */
  reload(): Promise<ReloadReport> {
    return this.reloadFrom(this.zonesPath);
  }

  /**
   * Serves the zones of another folder from now on (a fleet revision), as a reload does. With
   * `wholeFolders`, a folder with any file that does not load is refused whole
   * (RevisionRejectedError) and the zones served before keep serving.
   */
  switchTo(folder: string): Promise<ReloadReport> {
    return this.reloadFrom(folder);
  }

  private async reloadFrom(path: string): Promise<ReloadReport> {
    const { probes, allDown, announce } = this.parts;
    while (this.reloading) await this.reloading.catch(() => undefined);
    const knownTargets = probes ? new Set(probes.snapshot().targets.map((target) => target.probeKey)) : null;
    this.reloading = this.load(true, path);
    try {
      const report = await this.reloading;
      if (probes !== null && knownTargets !== null) {
        // Members new in this load that their first probe found down: one line, as at start-up.
        void report.firstProbes.then(() => {
          const added = probes.snapshot().targets.filter((target) => !knownTargets.has(target.probeKey));
          const summary = summariseFirstProbes(added, []);
          if (summary.fields.down > 0) announce.warn(summary.fields, summary.msg);
        });
      }
      await allDown.review();
      return report;
    } catch (error) {
      // A refused revision is the revision follower's to report.
      if (error instanceof RevisionRejectedError) throw error;
      this.reloadErrors++;
      this.parts.logger.error({ reason: reasonOf(error) }, 'zone reload failed; still serving the zones loaded before');
      throw error;
    } finally {
      this.reloading = null;
    }
  }

  private async load(reload: boolean, path: string): Promise<ReloadReport> {
    const { zones, probes, catalog: served, wholeFolders } = this.parts;
    // Parsing runs in a worker thread (its garbage dies with it), compiling in slices after start-up.
    const loads = await readZonePathOffThread(path, wholeFolders ? path : undefined, this.parts.keepParserWarm);
    if (wholeFolders) {
      const problems = loads.flatMap((load) => (load.ok ? [] : load.diagnostics));
      const bad = loads.filter((load) => !load.ok).length;
      if (bad > 0) throw new RevisionRejectedError(`${bad} of its ${loads.length} zone files do not load`, problems);
    }
    this.zonesPath = path;
    const { catalog, ...report } = await zones.apply(loads, { reload });
    // Probe targets follow the zones: kept ones keep their state, new ones are probed at once.
    const targets = probeTargets(catalog);
    if (reload && probes !== null) {
      // A new target counts as up until its first probe, so a member whose check changed (a new
      // probe key) would be answered even though it is known dead. Probe the new targets first,
      // alongside the old ones the current catalog still reads, and swap the catalog after.
      const union = new Map(probeTargets(served.current()).map((target) => [target.probeKey, target]));
      for (const target of targets) union.set(target.probeKey, target);
      await probes.setTargets([...union.values()]);
    }
    const firstProbes = probes !== null ? probes.setTargets(targets) : Promise.resolve();
    served.swap(catalog);
    return { ...report, firstProbes };
  }
}
