/**
 * `serve --zones-from-fleet`: serves the newest revision in the engine. At start it serves the
 * revision cached under `--state-dir` (or, with none cached, the engine's newest if the engine
 * answers soon, else nothing until one arrives); then it watches the engine's head and hands
 * each new revision, written out whole, to the server's loader, which swaps it in like a reload
 * or refuses it whole. A refused revision changes nothing: the last good one keeps serving, and
 * the refusal is kept for /status, metrics and the log.
 */
import type { FleetConnection } from '../fleet/index.js';
import { reasonOf, type Logger } from '../telemetry/index.js';
import { formatDiagnostic } from '../zones/index.js';
import { emptyRevisionFolder, markRevisionServed, readServedRevision, writeRevisionFolder, type CachedRevision } from './revision-cache.js';
import { replicasFor, RevisionStore } from './revision-store.js';
import type { ZoneRevisionStatus } from './revision-status.js';
import { RevisionRejectedError, type ZoneRevision } from './revision.js';

export interface RevisionFollowerParts {
  stateDir: string;
  fleet: FleetConnection;
  /** Loads a revision folder whole and swaps it in, or throws and changes nothing. */
  load(folder: string): Promise<void>;
  /** A new revision is on its way: start what its load will need (the zone parser thread). */
  prepare?: () => void;
  logger: Logger;
  /** How long a start with nothing cached waits for the engine's newest revision. */
  firstRevisionWaitMs?: number;
  /** Between attempts to watch again after a watch failed or ended while connected. */
  retryMs?: number;
}

const FIRST_REVISION_WAIT_MS = 5000;
const RETRY_MS = 1000;

export class RevisionFollower {
  private served: ZoneRevisionStatus['served'] = null;
  private newest: number | null = null;
  private refused: ZoneRevisionStatus['refused'] = null;
  private refusals = 0;
  /** The folder the server starts from when it came from the engine (marked served once loaded). */
  private startingRevision: CachedRevision | null = null;
  /** The newest revision waiting to be applied (older ones waiting are skipped). */
  private wanted: ZoneRevision | null = null;
  private applying: Promise<void> | null = null;
  private closed = false;
  private stopWatch: (() => void) | null = null;
  /** Which watch is the current one: a stopped or replaced watch's end starts nothing. */
  private watchGeneration = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private removeStateListener: (() => void) | null = null;

  constructor(private readonly parts: RevisionFollowerParts) {}

  status(): ZoneRevisionStatus {
    return { served: this.served, newest: this.newest, refused: this.refused, refusals: this.refusals };
  }

  /** The folder to serve from at start: the cached revision, else the engine's newest, else an empty one. */
  async startingFolder(): Promise<string> {
    const { stateDir, fleet, logger } = this.parts;
    const cached = await readServedRevision(stateDir);
    if (cached !== null) {
      const { summary } = cached;
      this.served = { number: summary.number, contentHash: summary.contentHash, createdAt: summary.createdAt, message: summary.message, servedSince: new Date().toISOString(), from: 'cache' };
      logger.info({ revision: summary.number }, `serving zone revision ${summary.number} from the state folder until the engine is reached`);
      return cached.folder;
    }
    const waitMs = this.parts.firstRevisionWaitMs ?? FIRST_REVISION_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const connection = await Promise.race([fleet.whenConnected(), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)))]);
    clearTimeout(timer);
    if (connection !== null) {
      try {
        const head = await (await RevisionStore.open(connection, { replicas: replicasFor(fleet.options.servers.length) })).head();
        if (head !== null) {
          this.newest = head.revision.number;
          this.startingRevision = await writeRevisionFolder(stateDir, head.revision);
          return this.startingRevision.folder;
        }
      } catch (error) {
        logger.warn({ reason: reasonOf(error) }, 'cannot read the newest zone revision from the engine');
      }
    }
    logger.warn('no zone revision cached and none from the engine yet: answering REFUSED until one is pushed (meridian push)');
    return emptyRevisionFolder(stateDir);
  }

  /** The starting folder loaded: remember it as served. */
  async started(): Promise<void> {
    if (this.startingRevision === null) return;
    await this.markServed(this.startingRevision, this.startingRevision.summary.number);
    this.startingRevision = null;
  }

  /** The starting folder (cached or from the engine) was refused: serve nothing rather than part of it. */
  async startRefused(error: unknown): Promise<string> {
    const number = this.startingRevision?.summary.number ?? this.served?.number;
    this.served = null;
    if (number !== undefined) this.noteRejected(number, error);
    this.startingRevision = null;
    return emptyRevisionFolder(this.parts.stateDir);
  }

  /** Watches the engine's head whenever connected, from now until close(). */
  follow(): void {
    const { fleet } = this.parts;
    // Every (re)connection starts a fresh watch: it delivers the newest revision at once, so one
    // pushed while this instance was cut off is served as soon as it is back.
    this.removeStateListener = fleet.onState((state) => {
      if (state === 'connected') this.watch();
    });
    if (fleet.state === 'connected') this.watch();
  }

  close(): void {
    this.closed = true;
    this.removeStateListener?.();
    this.stopWatch?.();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
  }

  private watch(): void {
    const connection = this.parts.fleet.connection;
    if (this.closed || connection === null) return;
    this.stopWatch?.();
    const generation = ++this.watchGeneration;
    const current = (): boolean => !this.closed && generation === this.watchGeneration;
    const { logger } = this.parts;
    // A watch that failed or ended on its own is started again while still connected.
    const again = (): void => {
      if (!current() || this.retryTimer !== null) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        if (current()) this.watch();
      }, this.parts.retryMs ?? RETRY_MS);
    };
    let stopped = false;
    let stop: () => void = () => {
      stopped = true;
    };
    this.stopWatch = () => stop();
    RevisionStore.open(connection, { replicas: replicasFor(this.parts.fleet.options.servers.length) })
      .then((store) => store.watch((revision) => this.offer(revision), (reason) => logger.error({ reason }, 'the engine holds a zone revision that cannot be read; still serving the last good one')))
      .then(
        (watch) => {
          if (stopped || !current()) return watch.stop();
          stop = () => watch.stop();
          void watch.ended.catch(() => undefined).then(again);
        },
        (error: unknown) => {
          if (!current()) return;
          logger.warn({ reason: reasonOf(error) }, 'cannot watch the zone revisions in the engine; trying again');
          again();
        },
      );
  }

  private offer(revision: ZoneRevision): void {
    this.newest = revision.number;
    if (this.served?.number === revision.number && this.served.contentHash === revision.contentHash) {
      // The engine confirms the revision read from the cache at start.
      if (this.served.from === 'cache') this.served = { ...this.served, from: 'engine' };
      return;
    }
    if (this.refused?.number === revision.number) return;
    this.wanted = revision;
    this.parts.prepare?.();
    this.applying ??= this.applyWanted().finally(() => (this.applying = null));
  }

  private async applyWanted(): Promise<void> {
    while (this.wanted !== null && !this.closed) {
      const revision = this.wanted;
      this.wanted = null;
      await this.apply(revision);
    }
  }

  private async apply(revision: ZoneRevision): Promise<void> {
    const { stateDir, logger } = this.parts;
    try {
      const cached = await writeRevisionFolder(stateDir, revision);
      await this.parts.load(cached.folder);
      await this.markServed(cached, revision.number);
      logger.info({ revision: revision.number, changes: revision.changes.length }, `zone revision ${revision.number} served${revision.message ? `: ${revision.message}` : ''}`);
    } catch (error) {
      this.noteRejected(revision.number, error);
    }
  }

  private async markServed(cached: CachedRevision, number: number): Promise<void> {
    const { summary } = cached;
    this.served = { number, contentHash: summary.contentHash, createdAt: summary.createdAt, message: summary.message, servedSince: new Date().toISOString(), from: 'engine' };
    this.refused = null;
    try {
      await markRevisionServed(this.parts.stateDir, cached);
    } catch (error) {
      this.parts.logger.warn({ reason: reasonOf(error), revision: number }, 'cannot record the served zone revision in the state folder; a restart without the engine serves the one recorded before');
    }
  }

  private noteRejected(number: number, error: unknown): void {
    const diagnostics = error instanceof RevisionRejectedError ? error.diagnostics.map(formatDiagnostic) : [];
    const reason = error instanceof Error ? error.message : String(error);
    this.refusals++;
    this.refused = { number, at: new Date().toISOString(), reason, diagnostics };
    const still = this.served === null ? 'serving no zones' : `still serving revision ${this.served.number}`;
    this.parts.logger.error({ revision: number, reason, diagnostics }, `zone revision ${number} refused; ${still}`);
  }
}
