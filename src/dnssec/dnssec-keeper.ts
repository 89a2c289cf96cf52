/**
 * The server's keys and its zones' signers: reads the key folder (and again when it changes or
 * a key's timing metadata comes due), gives each zone authority a slot holding its current
 * ZoneSigner, renews signatures well before they expire, and swaps a new signer in only once it
 * has signed what the old one had (off the query path, in slices).
 */
import { watch, type FSWatcher } from 'node:fs';
import type { HealthView } from '../health/index.js';
import type { Logger } from '../telemetry/index.js';
import type { CompiledZone } from '../zones/index.js';
import { dsRdata, isKeySigningKey, nextTimingEvent, type DnssecKey } from './dnskey.js';
import { readKeyFolder, type KeyFileProblem } from './key-files.js';
import { DEFAULT_SIGNER_LIMITS, newDnssecCounters, sameKeySet, zoneKeySet, ZoneSigner, type DnssecCounters, type SignerLimits, type ZoneKeySet } from './zone-signer.js';

/** What a zone's authority reads on each DO=1 query: the signer now in force, or null (unsigned). */
export interface SignerSlot {
  current: ZoneSigner | null;
}

/** What the authorities ask for: a slot per compiled zone; and what `explain` reads. */
export interface ZoneSigning {
  attach(zone: CompiledZone): SignerSlot;
  /** The signer in force for the zone `origin`, or null when it is served unsigned. */
  signerOf(origin: string): ZoneSigner | null;
}

export interface DnssecOptions {
  keysDir: string;
  logger: Logger;
  /** Seconds since the epoch (tests move it). */
  now?: () => number;
  /** Signature lifetime, seconds (default 14 days); renewed once half of it has passed. */
  validitySeconds?: number;
  /** How far back inception is set, against clock skew (default 1 hour). */
  inceptionSkewSeconds?: number;
  limits?: SignerLimits;
  /** Watch the key folder (default true). */
  watch?: boolean;
  /**
   * The health the answers use now: each signer signs ahead the member sets it makes possible
   * when it starts (zone loaded, keys changed, renewal), as `healthChanged` does on a change.
   */
  health?: () => HealthView;
}

/** One zone as /status and /metrics show it (`DnssecKeeper.report`). */
export interface DnssecZoneReport {
  zone: string;
  signed: boolean;
  /** Every key of the zone in the folder, published or not. */
  keys: { tag: number; algorithm: string; flags: number; role: 'KSK' | 'ZSK' | 'CSK'; published: boolean; signing: boolean; file: string }[];
  /** The DS records of the key-signing keys signing now, as the parent holds them. */
  ds: string[];
  /** Seconds since the epoch; null while unsigned. */
  signatureInception: number | null;
  signatureExpiration: number | null;
  /** When the signatures are renewed (half their lifetime), seconds since the epoch. */
  renewalDue: number | null;
  /** Seconds past renewalDue with the old signatures still served (0 when not due). */
  renewalLag: number;
  /** Signed answers held now: static RRsets, member sets (variants), denials and wildcard answers. */
  cached: { static: number; variant: number; denial: number };
}

export interface DnssecReport {
  keysDir: string;
  zones: DnssecZoneReport[];
  keyProblems: readonly KeyFileProblem[];
}

const DAY = 86400;
const SLICE_MS = 5;
const WATCH_QUIET_MS = 100;
/** The longest wait between reviews (timers beyond ~24.8 days overflow anyway). */
const MAX_REVIEW_WAIT_MS = 3600_000;

interface Attached {
  zone: CompiledZone;
  slot: SignerSlot;
  keys: ZoneKeySet | null;
  /** The signer being prepared to replace the current one, if any. */
  pending: ZoneSigner | null;
}

/** The tags of the keys signing, as the log says them: "12345 23456". */
function keyTags(keys: ZoneKeySet): string {
  return [...new Set([...keys.keySigning, ...keys.zoneSigning].map((key) => key.tag))].join(' ');
}

function systemNow(): number {
  return Math.floor(Date.now() / 1000);
}

export class DnssecKeeper implements ZoneSigning {
  private keys: readonly DnssecKey[] = [];
  private problems: readonly KeyFileProblem[] = [];
  private readonly zones = new Map<string, Attached>();
  private readonly now: () => number;
  private readonly validity: number;
  private readonly skew: number;
  private readonly limits: SignerLimits;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private presignPending = false;
  /** Signers being warmed; settles when none is (tests wait on it). */
  private warming: Promise<void> = Promise.resolve();
  /** What this process's signers did (plain numbers, summed over a cluster for /metrics). */
  readonly counters: DnssecCounters = newDnssecCounters();

  private constructor(private readonly options: DnssecOptions) {
    this.now = options.now ?? systemNow;
    this.validity = options.validitySeconds ?? 14 * DAY;
    this.skew = options.inceptionSkewSeconds ?? 3600;
    this.limits = options.limits ?? DEFAULT_SIGNER_LIMITS;
  }

  /** Reads the key folder (a folder that cannot be read is an error; a bad key file is logged and left out). */
  static async open(options: DnssecOptions): Promise<DnssecKeeper> {
    const keeper = new DnssecKeeper(options);
    await keeper.readKeys();
    if (options.watch !== false) keeper.watchFolder();
    keeper.scheduleReview();
    return keeper;
  }

  /** The key files that could not be used at the last read. */
  keyProblems(): readonly KeyFileProblem[] {
    return this.problems;
  }

  /** Every zone served, signed or not, with its keys, DS, signature window and caches. */
  report(): DnssecReport {
    const now = this.now();
    const zones = [...this.zones.values()].map((entry): DnssecZoneReport => {
      const signer = entry.slot.current;
      const keys = entry.keys;
      const renewalDue = signer === null ? null : this.renewalDue(signer);
      return {
        zone: entry.zone.origin,
        signed: signer !== null,
        keys: this.keys
          .filter((key) => key.zone === entry.zone.origin)
          .map((key) => ({
            tag: key.tag,
            algorithm: key.algorithm.mnemonic,
            flags: key.flags,
            role: !isKeySigningKey(key) ? 'ZSK' : keys !== null && keys.zoneSigning.includes(key) ? 'CSK' : 'KSK',
            published: keys?.published.includes(key) ?? false,
            signing: keys !== null && (keys.keySigning.includes(key) || keys.zoneSigning.includes(key)),
            file: key.path,
          })),
        ds: (keys?.forParent ?? []).map((key) => `${entry.zone.origin}. IN DS ${key.tag} ${key.algorithm.code} 2 ${dsRdata(entry.zone.origin, key.rdata).subarray(4).toString('hex').toUpperCase()}`),
        signatureInception: signer?.window.inception ?? null,
        signatureExpiration: signer?.window.expiration ?? null,
        renewalDue,
        renewalLag: renewalDue === null ? 0 : Math.max(0, now - renewalDue),
        cached: signer?.cacheSizes() ?? { static: 0, variant: 0, denial: 0 },
      };
    });
    return { keysDir: this.options.keysDir, zones, keyProblems: this.problems };
  }

  /** When `signer`'s signatures are due for renewal: half their lifetime after the signing began. */
  private renewalDue(signer: ZoneSigner): number {
    return signer.window.inception + this.skew + this.validity / 2;
  }

  signerOf(origin: string): ZoneSigner | null {
    return this.zones.get(origin)?.slot.current ?? null;
  }

  attach(zone: CompiledZone): SignerSlot {
    const existing = this.zones.get(zone.origin);
    if (existing !== undefined && existing.zone === zone) return existing.slot;
    const keys = this.keySetOf(zone.origin);
    const slot: SignerSlot = { current: null };
    const entry: Attached = { zone, slot, keys, pending: null };
    this.zones.set(zone.origin, entry);
    if (keys !== null) {
      // Serve at once (anything not yet signed is signed when first asked), and sign ahead behind it.
      const signer = new ZoneSigner(zone, keys, this.window(), this.limits, this.counters);
      slot.current = signer;
      this.warm(entry, signer, null, false);
      if (existing === undefined || !sameKeySet(existing.keys, keys)) this.options.logger.info({ zone: zone.origin, keys: keyTags(keys) }, 'zone signed');
    }
    return slot;
  }

  /**
   * Health changed: sign ahead, for every signed zone, the member sets it now makes possible
   * (once per burst of changes), so the answers that follow find their signatures ready. Every
   * process of a cluster calls it on each change it applies. `health` defaults to the option's.
   */
  healthChanged(health: HealthView | undefined = this.options.health?.()): void {
    if (this.closed || this.presignPending || health === undefined) return;
    this.presignPending = true;
    setImmediate(() => {
      this.presignPending = false;
      for (const entry of this.zones.values()) {
        const signer = entry.slot.current;
        if (signer !== null) this.runSliced(signer.presignHealth(health), () => entry.slot.current === signer, signer.origin);
        // A replacement being prepared signs the new state too, so it takes over with it.
        const pending = entry.pending;
        if (pending !== null) this.runSliced(pending.presignHealth(health), () => entry.pending === pending || entry.slot.current === pending, pending.origin);
      }
    });
  }

  /** Settles when every signer being prepared is in place. */
  settled(): Promise<void> {
    return this.warming;
  }

  /** Reads the key folder again and brings every zone's signer in line with it. */
  async reload(): Promise<void> {
    await this.readKeys();
    this.review();
  }

  /** Brings every zone in line with the keys and the clock: key timing events, renewal. */
  review(): void {
    const now = this.now();
    for (const entry of this.zones.values()) {
      const keys = this.keySetOf(entry.zone.origin);
      const current = entry.slot.current;
      if (keys === null) {
        if (current !== null) this.options.logger.warn({ zone: entry.zone.origin }, 'no active key for the zone any more; serving it unsigned');
        entry.slot.current = null;
        entry.keys = null;
        entry.pending = null;
        continue;
      }
      const keysChanged = !sameKeySet(entry.keys, keys);
      const renew = current !== null && now >= this.renewalDue(current);
      if (!keysChanged && !renew && current !== null) continue;
      if (entry.pending !== null && sameKeySet(entry.pending.keys, keys) && !renew) continue;
      entry.keys = keys;
      const signer = new ZoneSigner(entry.zone, keys, this.window(), this.limits, this.counters, current !== null);
      if (current === null) {
        entry.slot.current = signer;
        this.warm(entry, signer, null, false);
      } else this.warm(entry, signer, current, true);
      if (keysChanged) this.options.logger.info({ zone: entry.zone.origin, keys: keyTags(keys) }, 'zone keys changed; signing again');
    }
    this.scheduleReview();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.watchTimer) clearTimeout(this.watchTimer);
    this.watcher?.close();
  }

  private window(): { inception: number; expiration: number } {
    const now = this.now();
    return { inception: now - this.skew, expiration: now + this.validity };
  }

  private keySetOf(zone: string): ZoneKeySet | null {
    return zoneKeySet(
      this.keys.filter((key) => key.zone === zone),
      this.now(),
    );
  }

  private async readKeys(): Promise<void> {
    const { keys, problems } = await readKeyFolder(this.options.keysDir);
    const before = new Set(this.problems.map((problem) => `${problem.file}\n${problem.message}`));
    for (const problem of problems) {
      if (!before.has(`${problem.file}\n${problem.message}`)) this.options.logger.error({ file: problem.file, reason: problem.message }, 'key file not used');
    }
    this.keys = keys;
    this.problems = problems;
  }

  /**
   * Signs ahead in slices. A replacement (`swap`) goes in only once it has signed everything,
   * and only if nothing newer was started for the zone meanwhile.
   */
  private warm(entry: Attached, signer: ZoneSigner, previous: ZoneSigner | null, swap: boolean): void {
    if (swap) entry.pending = signer;
    const steps = signer.warm(previous !== null && previous.zone === signer.zone ? previous : null, this.options.health?.() ?? null);
    this.runSliced(
      steps,
      () => (swap ? entry.pending === signer : entry.slot.current === signer),
      signer.origin,
      () => {
        if (swap && entry.pending === signer) {
          entry.slot.current = signer;
          entry.pending = null;
          // From now on it signs what answers need, as any signer in place.
          signer.replacing = false;
        }
      },
    );
  }

  /** Runs `steps` in slices of SLICE_MS between answers while `wanted()`, then `done`. */
  private runSliced(steps: Generator<void, void, void>, wanted: () => boolean, zone: string, done: () => void = () => undefined): void {
    const run = async (): Promise<void> => {
      for (;;) {
        if (this.closed || !wanted()) return;
        const sliceEnd = performance.now() + SLICE_MS;
        for (;;) {
          if (steps.next().done) return done();
          if (performance.now() >= sliceEnd) break;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    };
    const finished = run().catch((error: unknown) => this.options.logger.error({ zone, reason: error instanceof Error ? error.message : String(error) }, 'signing ahead failed'));
    this.warming = Promise.all([this.warming, finished]).then(() => undefined);
  }

  private scheduleReview(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const now = this.now();
    let next = now + MAX_REVIEW_WAIT_MS / 1000;
    const event = nextTimingEvent(this.keys, now);
    if (event !== null && event < next) next = event;
    for (const entry of this.zones.values()) {
      const current = entry.slot.current;
      if (current !== null) next = Math.min(next, this.renewalDue(current));
    }
    this.timer = setTimeout(() => this.review(), Math.max(1000, (next - now) * 1000));
    this.timer.unref();
  }

  private watchFolder(): void {
    try {
      this.watcher = watch(this.options.keysDir, () => {
        if (this.watchTimer) clearTimeout(this.watchTimer);
        this.watchTimer = setTimeout(() => {
          this.reload().catch((error: unknown) => this.options.logger.error({ file: this.options.keysDir, reason: error instanceof Error ? error.message : String(error) }, 'key folder not read'));
        }, WATCH_QUIET_MS);
        this.watchTimer.unref();
      });
      this.watcher.on('error', () => undefined);
    } catch (error) {
      this.options.logger.warn({ file: this.options.keysDir, reason: error instanceof Error ? error.message : String(error) }, 'key folder not watched; SIGHUP reads it again');
    }
  }
}
