/**
 * The all-down watch: says once when every pool of a routed name is down ("every pool is down
 * for …") and once when one is up again, per episode rather than per answer. Reviews run when
 * health or zones change, never per query, in slices between answers; a review that a newer one
 * overtakes stops where it is, and a burst of health changes is reviewed once.
 */
import type { HealthView } from '../health/index.js';
import { isPoolListDown } from '../routing/index.js';
import { reasonOf, type Logger } from '../telemetry/index.js';
import type { WhenAllDown, ZoneCatalog } from '../zones/index.js';
import { BACKGROUND_SLICE_MS, runAtOnce, runInSlices } from './run-in-slices.js';

export interface AllDownEntry {
  zone: string;
  name: string;
  family: 4 | 6;
  pools: readonly string[];
  whenAllDown: WhenAllDown;
}

/**
 * Names whose whole pool list is down, by `name family [pools]`; yields every few dozen lists so
 * a large catalog is spread over several turns.
 */
function* allDownSteps(catalog: ZoneCatalog, health: HealthView): Generator<void, Map<string, AllDownEntry>, void> {
  const out = new Map<string, AllDownEntry>();
  let sinceYield = 0;
  for (const zone of catalog.zones) {
    for (const list of zone.routedLists) {
      for (const family of [4, 6] as const) {
        if (!isPoolListDown(list.pools, family, health)) continue;
        const entry = { zone: zone.origin, name: list.name, family, pools: list.poolNames, whenAllDown: list.whenAllDown };
        out.set(`${list.name} ${family} [${list.poolNames.join(',')}]`, entry);
      }
      if (++sinceYield >= 64) {
        sinceYield = 0;
        yield;
      }
    }
  }
  return out;
}

/** The names whose whole pool list is down, in one go. */
function allDownLists(catalog: ZoneCatalog, health: HealthView): Map<string, AllDownEntry> {
  return runAtOnce(allDownSteps(catalog, health));
}

export class AllDownWatch {
  private allDown = new Map<string, AllDownEntry>();
  private generation = 0;
  private pending = false;
  private stopped = false;

  /**
   * `serving` gives the catalog and health the answers use right now; `announce` says the
   * episodes (silent in a cluster worker), `logger` the reviews that fail.
   */
  constructor(
    private readonly serving: () => { catalog: ZoneCatalog; health: HealthView },
    private readonly announce: Logger,
    private readonly logger: Logger,
  ) {}

  /**
   * Takes in what is down before the first answer, in one go (nothing else waits on the event
   * loop yet), without a warning per list: the caller says one summary line, and each list is
   * logged at debug level. Returns the lists found down.
   */
  startQuietly(): AllDownEntry[] {
    const { catalog, health } = this.serving();
    this.allDown = allDownLists(catalog, health);
    for (const entry of this.allDown.values()) {
      this.announce.debug({ zone: entry.zone, name: entry.name, family: entry.family, pools: entry.pools }, `every pool is down for ${entry.name} (IPv${entry.family})`);
    }
    return [...this.allDown.values()];
  }

  /** Reviews in slices between answers; resolves when done or overtaken by a newer review. */
  async review(): Promise<void> {
    const generation = ++this.generation;
    const { catalog, health } = this.serving();
    try {
      const now = await runInSlices(allDownSteps(catalog, health), () => generation !== this.generation, BACKGROUND_SLICE_MS);
      if (now !== undefined) this.settle(now);
    } catch (error) {
      this.logger.error({ reason: reasonOf(error) }, 'all-down review failed; the next health change reviews again');
    }
  }

  /** Reviews from the next turn; a burst of calls (a rack going down, the first round of probes) makes one review. */
  reviewSoon(): void {
    if (this.pending || this.stopped) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      void this.review();
    });
  }

  /** Stops a review under way (shutdown). */
  stop(): void {
    this.stopped = true;
    this.generation++;
  }

  private settle(now: Map<string, AllDownEntry>): void {
    for (const [key, entry] of now) {
      if (this.allDown.has(key)) continue;
      const action = entry.whenAllDown === 'fail-closed' ? 'answering NODATA (fail-closed)' : 'answering the first pool anyway (fail-open)';
      this.announce.warn({ zone: entry.zone, name: entry.name, family: entry.family, pools: entry.pools }, `every pool is down for ${entry.name} (IPv${entry.family}); ${action}`);
    }
    for (const [key, entry] of this.allDown) {
      if (!now.has(key)) this.announce.info({ zone: entry.zone, name: entry.name, family: entry.family, pools: entry.pools }, `a pool is up again for ${entry.name} (IPv${entry.family})`);
    }
    this.allDown = now;
  }
}
