/**
 * The geo locator: up to one location database and one ASN database, looked up together on the
 * query path, each watched and hot-swapped when its file changes (watched-database.ts).
 */
import { resolve } from 'node:path';
import type { Logger } from '../telemetry/index.js';
import type { ClientLocation, GeoLocator } from './client-location.js';
import type { Coordinates } from './country-centroids.js';
import { errorText, GeoDatabaseError, type GeoDatabase } from './geo-database.js';
import { readAsnRecord, readLocationRecord } from './location-record.js';
import { DEFAULT_POLL_MS, loadWithRetry, WatchedDatabase, type GeoDatabaseInfo, type WatchOptions } from './watched-database.js';

export type { GeoDatabaseInfo } from './watched-database.js';

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
/**
 * Distinct client addresses remembered between database swaps. Resolvers send ECS with the bits
 * past the source prefix zeroed (a /24 or /56 in practice) and ask from a few addresses of their
 * own, so a working set of this size covers a busy server; past it the memo starts afresh
 * rather than growing without bound.
 */
const LOCATE_MEMO_ENTRIES = 32_768;

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

class Locator implements GeoLocatorHandle {
  private readonly databases: WatchedDatabase[];
  private readonly location: WatchedDatabase | undefined;
  private readonly asn: WatchedDatabase | undefined;
  private readonly listeners = new Set<GeoReloadListener>();
  private readonly logger: Logger;
  private versionCounter = 0;
  private errorCounter = 0;
  // Exact address → its location, dropped whole on every swap. An exact key needs no reasoning
  // about network widths, and the same object coming back lets routing memoise per location.
  private memo = new Map<string, ClientLocation>();

  constructor(location: GeoDatabase | undefined, asn: GeoDatabase | undefined, options: GeoLocatorOptions) {
    this.logger = options.logger;
    const watching: WatchOptions = {
      logger: options.logger,
      debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      watch: options.watch ?? true,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_MS,
    };
    const watched = (db: GeoDatabase): WatchedDatabase => new WatchedDatabase(db, watching, (info) => this.swapped(info));
    this.location = location && watched(location);
    this.asn = asn && watched(asn);
    this.databases = [this.location, this.asn].filter((d): d is WatchedDatabase => d !== undefined);
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
    return this.databases.map((d) => d.info());
  }

  async reload(): Promise<void> {
    await Promise.all(this.databases.map((d) => d.check(true)));
  }

  onReload(listener: GeoReloadListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.databases.map((d) => d.close()));
  }

  /** A database was swapped: locations found in the old one are forgotten, and listeners told. */
  private swapped(current: GeoDatabaseInfo): void {
    this.memo = new Map();
    this.versionCounter++;
    this.logger.info({ file: current.file }, `geo database reloaded (${current.databaseType}, built ${current.buildDate})`);
    for (const listener of this.listeners) {
      try {
        listener(current);
      } catch (err) {
        this.logger.error({ file: current.file, reason: errorText(err) }, 'geo reload listener threw');
      }
    }
  }
}
