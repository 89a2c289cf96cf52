/**
 * The geo locator: up to one location database and one ASN database, looked up together on the
 * query path, each watched and hot-swapped when its file changes.
 */
import { watch, watchFile, unwatchFile, type FSWatcher, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../telemetry/index.js';
import type { ClientLocation, GeoLocator } from './client-location.js';
import type { Coordinates } from './country-centroids.js';
import {
  errorText,
  fileSignature,
  GeoDatabaseError,
  loadGeoDatabase,
  type GeoDatabase,
  type GeoDatabaseKind,
  type GeoDatabaseSchema,
} from './geo-database.js';
import { readAsnRecord, readLocationRecord } from './location-record.js';

/** Options of openGeoLocator; only the logger is required. */
export interface GeoLocatorOptions {
  readonly logger: Logger;
  /** Watch the files and reload them when they change (default true); 'poll' uses only the stat poll (NFS and the like). */
  readonly watch?: boolean | 'poll';
  /** Quiet time after the last change event before a reload (default 250 ms). */
  readonly debounceMs?: number;
  /** Interval of the fallback stat poll, in ms, for file systems without change events; 0 disables (default 10 000). */
  readonly pollIntervalMs?: number;
}

/** What describe() reports about one database, for logs and the status endpoint. */
export interface GeoDatabaseInfo {
  readonly file: string;
  readonly kind: GeoDatabaseKind;
  readonly schema: GeoDatabaseSchema;
  readonly databaseType: string;
  readonly ipVersion: 4 | 6;
  /** build_epoch from the metadata, ISO 8601. */
  readonly buildDate: string;
  readonly nodeCount: number;
  /** When this content was loaded, ISO 8601. */
  readonly loadedAt: string;
  /** Successful reloads since open. */
  readonly reloads: number;
  /** Why the latest reload attempt failed, while the previous content is still in use. */
  readonly lastError?: string;
}

/** Called after a database was swapped, so callers can drop answers cached by location. */
export type GeoReloadListener = (info: GeoDatabaseInfo) => void;

/** A GeoLocator that owns open database files. */
export interface GeoLocatorHandle extends GeoLocator {
  /** Synchronous, allocation-light lookup of a normalised address; never throws, never logs. */
  locate(address: string, family: 4 | 6): ClientLocation;
  /** One entry per database file, location first. */
  describe(): GeoDatabaseInfo[];
  /** Re-reads every file now (SIGHUP, tests); failures are logged and keep the old content. */
  reload(): Promise<void>;
  /** Registers a listener for successful swaps; returns a function that removes it. */
  onReload(listener: GeoReloadListener): () => void;
  /** Increases by one on every successful swap of any database. */
  readonly version: number;
  /** Lookups that threw inside the reader (a corrupt data section); answered with full-length prefixes. */
  readonly lookupErrors: number;
  /** Stops watching; lookups keep working on the databases already loaded. */
  close(): Promise<void>;
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_POLL_MS = 10_000;
/**
 * Distinct client addresses remembered between database swaps. Resolvers send ECS with the bits
 * past the source prefix zeroed (a /24 or /56 in practice) and ask from a few addresses of their
 * own, so a working set of this size covers a busy server; past it the memo starts afresh
 * rather than growing without bound.
 */
const LOCATE_MEMO_ENTRIES = 32_768;

// One database file and its life cycle; `db` is replaced wholesale, which is the atomic swap.
interface Slot {
  readonly file: string;
  db: GeoDatabase;
  reloads: number;
  lastError: string | undefined;
  // Signature of the last content we tried (loaded or rejected), so one bad file logs once.
  attempted: string;
  timer: NodeJS.Timeout | undefined;
  running: Promise<void> | undefined;
  rerun: boolean;
  stopWatching: (() => void) | undefined;
}

/**
 * Opens geo databases: each file is classified as a location (City, Country or flat) or ASN
 * database, at most one of each. Rejects with a GeoDatabaseError if any file is unusable.
 */
export async function openGeoLocator(files: readonly string[], options: GeoLocatorOptions): Promise<GeoLocatorHandle> {
  if (files.length === 0) throw new GeoDatabaseError('(none)', 'no geo database files given');
  const dbs = await Promise.all(files.map((f) => loadWithRetry(resolve(f))));
  let location: GeoDatabase | undefined;
  let asn: GeoDatabase | undefined;
  for (const db of dbs) {
    const other = db.kind === 'location' ? location : asn;
    if (other !== undefined) {
      throw new GeoDatabaseError(db.file, `a second ${db.kind} database (the first is ${other.file}); give at most one of each`);
    }
    if (db.kind === 'location') location = db;
    else asn = db;
  }
  return new Locator(location, asn, options);
}

// At start-up a file being written is waited for briefly rather than failing the whole server.
async function loadWithRetry(file: string): Promise<GeoDatabase> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await loadGeoDatabase(file);
    } catch (err) {
      if (!(err instanceof GeoDatabaseError && err.transient) || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

class Locator implements GeoLocatorHandle {
  private readonly slots: Slot[];
  private location: Slot | undefined;
  private asn: Slot | undefined;
  private readonly listeners = new Set<GeoReloadListener>();
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private closed = false;
  private versionCounter = 0;
  private errorCounter = 0;
  // Exact address → its location, dropped whole on every swap. An exact key needs no reasoning
  // about network widths, and the same object coming back lets routing memoise per location.
  private memo = new Map<string, ClientLocation>();

  constructor(location: GeoDatabase | undefined, asn: GeoDatabase | undefined, options: GeoLocatorOptions) {
    this.logger = options.logger;
    this.debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    const slot = (db: GeoDatabase): Slot => ({
      file: db.file,
      db,
      reloads: 0,
      lastError: undefined,
      attempted: db.signature,
      timer: undefined,
      running: undefined,
      rerun: false,
      stopWatching: undefined,
    });
    this.location = location && slot(location);
    this.asn = asn && slot(asn);
    this.slots = [this.location, this.asn].filter((s): s is Slot => s !== undefined);
    const mode = options.watch ?? true;
    if (mode !== false) {
      for (const s of this.slots) this.watch(s, mode === 'poll', options.pollIntervalMs ?? DEFAULT_POLL_MS);
    }
  }

  get version(): number {
    return this.versionCounter;
  }

  get lookupErrors(): number {
    return this.errorCounter;
  }

  locate(address: string, family: 4 | 6): ClientLocation {
    let found = this.memo.get(address);
    if (found === undefined) {
      found = this.lookUp(address, family);
      if (this.memo.size >= LOCATE_MEMO_ENTRIES) this.memo = new Map();
      this.memo.set(address, found);
    }
    return found;
  }

  private lookUp(address: string, family: 4 | 6): ClientLocation {
    let continent: string | undefined;
    let country: string | undefined;
    let subdivisions: readonly string[] | undefined;
    let coordinates: Coordinates | undefined;
    let asn: number | undefined;
    let locationPrefixLength = 0;
    let asnPrefixLength = 0;

    const loc = this.location?.db;
    // An IPv4-only database knows nothing of IPv6: a miss that covers the whole family (prefix 0).
    if (loc !== undefined && (family === 4 || loc.ipVersion === 6)) {
      try {
        const hit = loc.reader.getWithPrefixLength(address);
        locationPrefixLength = hit[1];
        const record = hit[0];
        if (record !== null && typeof record === 'object') {
          let facts = loc.facts.get(record);
          if (facts === undefined) {
            facts = readLocationRecord(record);
            loc.facts.set(record, facts);
          }
          continent = facts.continent;
          country = facts.country;
          subdivisions = facts.subdivisions;
          coordinates = facts.coordinates;
        }
      } catch {
        // A full-length prefix keeps a failed lookup's answer from being cached for anyone else.
        locationPrefixLength = family === 4 ? 32 : 128;
        this.errorCounter++;
      }
    }

    const as = this.asn?.db;
    if (as !== undefined && (family === 4 || as.ipVersion === 6)) {
      try {
        const hit = as.reader.getWithPrefixLength(address);
        asnPrefixLength = hit[1];
        asn = readAsnRecord(hit[0]);
      } catch {
        asnPrefixLength = family === 4 ? 32 : 128;
        this.errorCounter++;
      }
    }

    // Always the same property order and set, so V8 keeps one shape for every result.
    return Object.freeze({ continent, country, subdivisions, coordinates, asn, locationPrefixLength, asnPrefixLength });
  }

  describe(): GeoDatabaseInfo[] {
    return this.slots.map((s) => info(s));
  }

  async reload(): Promise<void> {
    await Promise.all(this.slots.map((s) => this.check(s, true)));
  }

  onReload(listener: GeoReloadListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.slots) {
      s.stopWatching?.();
      s.stopWatching = undefined;
      if (s.timer !== undefined) clearTimeout(s.timer);
      s.timer = undefined;
    }
    await Promise.all(this.slots.map((s) => s.running));
  }

  // Watches the directory, not the file: editors and `mv`/`ln -sf` replace the file (new inode),
  // which a watch on the old inode would never report. Any event in the directory triggers a
  // stat comparison, which also covers Kubernetes-style symlink swaps of a parent entry.
  private watch(slot: Slot, pollOnly: boolean, pollIntervalMs: number): void {
    const stops: Array<() => void> = [];
    const onEvent = (): void => this.schedule(slot);
    if (!pollOnly) {
      try {
        const watcher: FSWatcher = watch(dirname(slot.file), { persistent: false }, onEvent);
        watcher.on('error', (err) => {
          this.logger.warn({ file: slot.file, reason: errorText(err) }, 'geo database directory watch failed; relying on the stat poll');
          watcher.close();
        });
        stops.push(() => watcher.close());
      } catch (err) {
        this.logger.warn({ file: slot.file, reason: errorText(err) }, 'cannot watch geo database directory; relying on the stat poll');
      }
    }
    // The poll is the safety net for network and container file systems that send no events.
    if (pollIntervalMs > 0 || pollOnly) {
      const onStat = (curr: Stats, prev: Stats): void => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) onEvent();
      };
      watchFile(slot.file, { persistent: false, interval: pollIntervalMs > 0 ? pollIntervalMs : DEFAULT_POLL_MS }, onStat);
      stops.push(() => unwatchFile(slot.file, onStat));
    }
    slot.stopWatching = () => stops.forEach((stop) => stop());
  }

  // Editors and copies produce bursts of events: wait for a quiet period, then check once.
  private schedule(slot: Slot): void {
    if (this.closed) return;
    if (slot.timer !== undefined) clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.check(slot, false);
    }, this.debounceMs);
    slot.timer.unref();
  }

  // Serialised per slot: a change during a reload triggers one more pass afterwards.
  private check(slot: Slot, force: boolean): Promise<void> {
    if (slot.running !== undefined) {
      slot.rerun = true;
      return slot.running;
    }
    const run = async (): Promise<void> => {
      let again = force;
      do {
        slot.rerun = false;
        await this.reloadSlot(slot, again);
        again = false;
      } while (slot.rerun && !this.closed);
    };
    slot.running = run().finally(() => {
      slot.running = undefined;
    });
    return slot.running;
  }

  private async reloadSlot(slot: Slot, force: boolean): Promise<void> {
    let signature: string;
    try {
      signature = await fileSignature(slot.file);
    } catch (err) {
      // Mid-`mv` the name can be briefly missing; the arrival of the new file is another event.
      this.fail(slot, errorText(err), 'missing', force);
      return;
    }
    if (!force && signature === slot.attempted) return;
    let db: GeoDatabase;
    try {
      db = await loadGeoDatabase(slot.file);
    } catch (err) {
      if (err instanceof GeoDatabaseError && err.transient) {
        this.schedule(slot);
        return;
      }
      this.fail(slot, errorText(err), signature, force);
      return;
    }
    if (db.kind !== slot.db.kind) {
      this.fail(slot, `now a ${db.schema} database, was ${slot.db.schema}`, db.signature, force);
      return;
    }
    if (this.closed) return;
    slot.db = db;
    slot.attempted = db.signature;
    slot.reloads++;
    slot.lastError = undefined;
    this.memo = new Map();
    this.versionCounter++;
    const current = info(slot);
    this.logger.info({ file: slot.file }, `geo database reloaded (${db.databaseType}, built ${current.buildDate})`);
    for (const listener of this.listeners) {
      try {
        listener(current);
      } catch (err) {
        this.logger.error({ file: slot.file, reason: errorText(err) }, 'geo reload listener threw');
      }
    }
  }

  // An unchanged bad file is logged once per content, except when a reload is asked for explicitly.
  private fail(slot: Slot, reason: string, signature: string, force: boolean): void {
    const repeated = !force && slot.attempted === signature && slot.lastError === reason;
    slot.attempted = signature;
    slot.lastError = reason;
    if (!repeated) this.logger.error({ file: slot.file, reason }, 'geo database reload failed; keeping the previous one');
  }
}

function info(slot: Slot): GeoDatabaseInfo {
  const db = slot.db;
  const base: GeoDatabaseInfo = {
    file: db.file,
    kind: db.kind,
    schema: db.schema,
    databaseType: db.databaseType,
    ipVersion: db.ipVersion,
    buildDate: db.buildDate.toISOString(),
    nodeCount: db.nodeCount,
    loadedAt: db.loadedAt.toISOString(),
    reloads: slot.reloads,
  };
  return slot.lastError === undefined ? base : { ...base, lastError: slot.lastError };
}
