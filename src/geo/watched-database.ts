/**
 * One geo database file as a server keeps it: the directory watched (and the file polled, for
 * file systems without events), bursts of changes waited out, the file read again one pass at a
 * time, and swapped in only when the new content is good and of the same kind. A bad file keeps
 * the previous content and is logged once per content.
 */
import { watch, watchFile, unwatchFile, type FSWatcher, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../telemetry/index.js';
import { errorText, fileSignature, GeoDatabaseError, loadGeoDatabase, type GeoDatabase, type GeoDatabaseKind, type GeoDatabaseSchema } from './geo-database.js';

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

export interface WatchOptions {
  readonly logger: Logger;
  /** Quiet time after the last change event before a reload. */
  readonly debounceMs: number;
  /** false: never reloads by itself; 'poll': the stat poll alone (NFS and the like). */
  readonly watch: boolean | 'poll';
  /** Interval of the stat poll, ms; 0 disables it (unless polling alone). */
  readonly pollIntervalMs: number;
}

export const DEFAULT_POLL_MS = 10_000;

// At start-up a file being written is waited for briefly rather than failing the whole server.
export async function loadWithRetry(file: string): Promise<GeoDatabase> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await loadGeoDatabase(file);
    } catch (err) {
      if (!(err instanceof GeoDatabaseError && err.transient) || attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class WatchedDatabase {
  readonly file: string;
  /** The content in use; replaced wholesale, which is the atomic swap. */
  db: GeoDatabase;
  private reloads = 0;
  private lastError: string | undefined = undefined;
  // Signature of the last content we tried (loaded or rejected), so one bad file logs once.
  private attempted: string;
  private timer: NodeJS.Timeout | undefined = undefined;
  private running: Promise<void> | undefined = undefined;
  private rerun = false;
  private stopWatching: (() => void) | undefined = undefined;
  private closed = false;

  /** `onSwap` is told of each new content, once it is in use (it says so in the log). */
  constructor(
    db: GeoDatabase,
    private readonly options: WatchOptions,
    private readonly onSwap: (info: GeoDatabaseInfo) => void,
  ) {
    this.file = db.file;
    this.db = db;
    this.attempted = db.signature;
    if (options.watch !== false) this.watch(options.watch === 'poll', options.pollIntervalMs);
  }

  /** Stops watching and waits for a reload under way; the content in use stays. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching?.();
    this.stopWatching = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  // Watches the directory, not the file: editors and `mv`/`ln -sf` replace the file (new inode),
  // which a watch on the old inode would never report. Any event in the directory triggers a
  // stat comparison, which also covers Kubernetes-style symlink swaps of a parent entry.
  private watch(pollOnly: boolean, pollIntervalMs: number): void {
    const stops: Array<() => void> = [];
    const onEvent = (): void => this.schedule();
    if (!pollOnly) {
      try {
        const watcher: FSWatcher = watch(dirname(this.file), { persistent: false }, onEvent);
        watcher.on('error', (err) => {
          this.options.logger.warn({ file: this.file, reason: errorText(err) }, 'geo database directory watch failed; relying on the stat poll');
          watcher.close();
        });
        stops.push(() => watcher.close());
      } catch (err) {
        this.options.logger.warn({ file: this.file, reason: errorText(err) }, 'cannot watch geo database directory; relying on the stat poll');
      }
    }
    // The poll is the safety net for network and container file systems that send no events.
    if (pollIntervalMs > 0 || pollOnly) {
      const onStat = (curr: Stats, prev: Stats): void => {
        if (curr.mtimeMs !== prev.mtimeMs || curr.ino !== prev.ino || curr.size !== prev.size) onEvent();
      };
      watchFile(this.file, { persistent: false, interval: pollIntervalMs > 0 ? pollIntervalMs : DEFAULT_POLL_MS }, onStat);
      stops.push(() => unwatchFile(this.file, onStat));
    }
    this.stopWatching = () => stops.forEach((stop) => stop());
  }

  // Editors and copies produce bursts of events: wait for a quiet period, then check once.
  private schedule(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check(false);
    }, this.options.debounceMs);
    this.timer.unref();
  }

  /** Reads the file again (`force`: even when unchanged); serialised: a change during a reload triggers one more pass afterwards. */
  check(force: boolean): Promise<void> {
    if (this.running !== undefined) {
      this.rerun = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      let again = force;
      do {
        this.rerun = false;
        await this.reload(again);
        again = false;
      } while (this.rerun && !this.closed);
    };
    this.running = run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async reload(force: boolean): Promise<void> {
    let signature: string;
    try {
      signature = await fileSignature(this.file);
    } catch (err) {
      // Mid-`mv` the name can be briefly missing; the arrival of the new file is another event.
      this.fail(errorText(err), 'missing', force);
      return;
    }
    if (!force && signature === this.attempted) return;
    let db: GeoDatabase;
    try {
      db = await loadGeoDatabase(this.file);
    } catch (err) {
      if (err instanceof GeoDatabaseError && err.transient) {
        this.schedule();
        return;
      }
      this.fail(errorText(err), signature, force);
      return;
    }
    if (db.kind !== this.db.kind) {
      this.fail(`now a ${db.schema} database, was ${this.db.schema}`, db.signature, force);
      return;
    }
    if (this.closed) return;
    this.db = db;
    this.attempted = db.signature;
    this.reloads++;
    this.lastError = undefined;
    this.onSwap(this.info());
  }

  // An unchanged bad file is logged once per content, except when a reload is asked for explicitly.
  private fail(reason: string, signature: string, force: boolean): void {
    const repeated = !force && this.attempted === signature && this.lastError === reason;
    this.attempted = signature;
    this.lastError = reason;
    if (!repeated) this.options.logger.error({ file: this.file, reason }, 'geo database reload failed; keeping the previous one');
  }

  /** What describe() reports of it. */
  info(): GeoDatabaseInfo {
    const db = this.db;
    const base: GeoDatabaseInfo = {
      file: db.file,
      kind: db.kind,
      schema: db.schema,
      databaseType: db.databaseType,
      ipVersion: db.ipVersion,
      buildDate: db.buildDate.toISOString(),
      nodeCount: db.nodeCount,
      loadedAt: db.loadedAt.toISOString(),
      reloads: this.reloads,
    };
    return this.lastError === undefined ? base : { ...base, lastError: this.lastError };
  }
}
