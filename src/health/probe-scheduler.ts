/**
 * health/probe-scheduler: when each probe target is probed, and running those probes.
 *
 * One tick a wall-clock second (tick-source.ts: a node-cron task, watched). Each tick places, with
 * a sub-second timer, every target whose next due time falls within the coming second. Each
 * target has its own due time, advanced by exactly its interval from a random initial phase in
 * [0, interval), so intervals that do not divide 60 s are honoured and a thousand targets are
 * spread over the whole interval instead of firing on the same second boundary. Timers are
 * placed on a 50 ms grid, so the probes due within the same 50 ms start together from one
 * wake-up: a wake-up of an idle process costs a VM as much as the probe's own work, and 1,000
 * probes a second spread one per millisecond cost twice the CPU of the same probes in 20 groups.
 * The phases themselves stay exact (only the start is rounded up). A target whose previous probe
 * is still running never gets a second one at once (noOverlap): its turn waits for that probe to
 * end (cut off at its timeout), then runs.
 *
 * Nothing that runs from a tick, a timer or a probe's completion may throw out of it (it would
 * be an uncaught exception and end the process): each is caught, logged and counted.
 */
import type { Logger } from '../telemetry/logger.js';
import type { CheckSpec } from './check-spec.js';
import type { ProbeFn, ProbeResult } from './probes/index.js';
import { errorReason } from './probes/probe.js';
import { cronTickSource, realClock, TICK_MS, type MonitorClock, type TickSource } from './tick-source.js';

/** What the scheduler counts. */
export interface SchedulerCounters {
  /** Turns that found the target's previous probe still running (run once it ended, not in parallel). */
  readonly overlapSkips: number;
  /** Ticks that did not come (the event loop was blocked, or the scheduler was restarted): probes due then ran late. */
  readonly missedTicks: number;
  /** Exceptions caught in a tick, a timer or a probe's completion (each logged). */
  readonly internalErrors: number;
}

/** One target as the scheduler sees it. */
export interface ProbeJob {
  readonly key: string;
  readonly address: string;
  readonly check: CheckSpec;
}

export interface ProbeSchedulerOptions {
  readonly logger: Logger;
  readonly probe: ProbeFn;
  /** Takes each finished probe of a job still scheduled (not of one removed or stopped meanwhile). */
  readonly onResult: (key: string, result: ProbeResult, startedWall: number) => void;
  readonly clock?: MonitorClock;
  /** Tick driver; defaults to one node-cron task firing every second. */
  readonly tickSource?: TickSource;
  /** Uniform [0, 1) source for the initial phases. */
  readonly random?: () => number;
  /** Extra wait beyond the longest check timeout before a first round gives up waiting. */
  readonly firstProbeSlackMs?: number;
}

interface Entry {
  readonly job: ProbeJob;
  readonly intervalMs: number;
  /** Monotonic due time of the next scheduled probe; null until the first probe was launched. */
  nextDueMs: number | null;
  /** The grid slot (monotonic ms) it is scheduled to fire in, if any. */
  slot: number | undefined;
  inFlight: Promise<void> | null;
  /** A turn came due while a probe was in flight: run it when that probe ends. */
  queued: boolean;
  /**
   * Aborted when the entry is retired (removed, or the scheduler stops), which ends its probe in
   * flight. One per entry, not per probe: creating an AbortSignal costs as much as a tenth of a
   * probe, and at thousands of probes a second that shows.
   */
  abort: AbortController | null;
  removed: boolean;
}

/** Probes due within the same SLOT_MS start together (see the header). */
export const SLOT_MS = 50;
const MIN_INTERVAL_MS = 1000;

/** Probes a set of jobs, each on its own phase; see the header. */
export class ProbeScheduler {
  private readonly entries = new Map<string, Entry>();
  /** Grid slot (monotonic ms) → its timer and the entries it fires. */
  private readonly slots = new Map<number, { timer: unknown; members: Set<Entry> }>();
  private readonly log: Logger;
  private readonly probe: ProbeFn;
  private readonly onResult: ProbeSchedulerOptions['onResult'];
  private readonly clock: MonitorClock;
  private readonly tickSource: TickSource;
  private readonly random: () => number;
  private readonly slackMs: number;
  private ticker: { stop(): void } | null = null;
  private lastTickMs: number | null = null;
  private running = false;
  private stopped = false;
  private overlapSkipCount = 0;
  private missedTickCount = 0;
  private internalErrorCount = 0;

  constructor(options: ProbeSchedulerOptions) {
    this.log = options.logger;
    this.probe = options.probe;
    this.onResult = options.onResult;
    this.clock = options.clock ?? realClock;
    this.tickSource = options.tickSource ?? cronTickSource(this.log);
    this.random = options.random ?? Math.random;
    this.slackMs = options.firstProbeSlackMs ?? 1000;
  }

  /** Adds jobs (a key already present is kept as it is). Once started, their first probes run at once. */
  add(jobs: readonly ProbeJob[]): Promise<void> {
    const added: Entry[] = [];
    for (const job of jobs) {
      if (this.entries.has(job.key)) continue;
      const entry: Entry = {
        job,
        intervalMs: Math.max(MIN_INTERVAL_MS, job.check.intervalMs),
        nextDueMs: null,
        slot: undefined,
        inFlight: null,
        queued: false,
        abort: null,
        removed: false,
      };
      this.entries.set(job.key, entry);
      added.push(entry);
    }
    if (!this.running || added.length === 0) return Promise.resolve();
    return this.probeFirst(added);
  }

  /** Stops probing a job; its probe in flight is aborted and its result dropped. */
  remove(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    entry.removed = true;
    this.retire(entry);
  }

  /**
   * Runs the first probe of every job concurrently and starts the ticks. Resolves when all first
   * probes finished, or after the longest check timeout plus slack, whichever comes first.
   */
  start(): Promise<void> {
    if (this.running || this.stopped) return Promise.resolve();
    this.running = true;
    this.ticker = this.tickSource(() => this.guarded('tick', () => this.onTick()));
    return this.probeFirst([...this.entries.values()]);
  }

  /** Stops the ticks, aborts the probes in flight and waits for them. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopped = true;
    this.ticker?.stop();
    this.ticker = null;
    const inFlight: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.inFlight !== null) inFlight.push(entry.inFlight);
      this.retire(entry);
    }
    await Promise.all(inFlight);
  }

  isInFlight(key: string): boolean {
    return this.entries.get(key)?.inFlight != null;
  }

  get counters(): SchedulerCounters {
    return { overlapSkips: this.overlapSkipCount, missedTicks: this.missedTickCount, internalErrors: this.internalErrorCount };
  }

  private probeFirst(entries: readonly Entry[]): Promise<void> {
    const now = this.clock.now();
    const pending: Promise<void>[] = [];
    let longest = 0;
    for (const entry of entries) {
      if (entry.nextDueMs !== null || entry.removed) continue;
      // A random phase spreads targets over their whole interval (and within the second).
      entry.nextDueMs = now + this.random() * entry.intervalMs;
      pending.push(this.launch(entry));
      longest = Math.max(longest, entry.job.check.timeoutMs);
    }
    // Place the due times that fall before the next tick.
    this.guarded('tick', () => this.placeDue(now));
    if (pending.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Probes enforce their own timeouts; this bound only guards against a probe that breaks that promise.
      const guard = this.clock.setTimeout(resolve, longest + this.slackMs);
      void Promise.all(pending).then(() => {
        this.clock.clearTimeout(guard);
        resolve();
      });
    });
  }

  private onTick(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    // A tick more than a whole period late means the ticks between were missed (a blocked event
    // loop, or the tick driver restarted); the due times that fell in the gap are placed at once.
    if (this.lastTickMs !== null) this.missedTickCount += Math.max(0, Math.floor((now - this.lastTickMs) / TICK_MS) - 1);
    this.lastTickMs = now;
    this.placeDue(now);
  }

  private placeDue(now: number): void {
    const horizon = now + TICK_MS;
    for (const entry of this.entries.values()) {
      if (entry.nextDueMs === null || entry.slot !== undefined || entry.nextDueMs >= horizon) continue;
      this.schedule(entry, now);
    }
  }

  /** Puts the entry in the grid slot at or after its due time; one timer fires a whole slot. */
  private schedule(entry: Entry, now: number): void {
    const at = Math.max(now, Math.ceil(entry.nextDueMs! / SLOT_MS) * SLOT_MS);
    let slot = this.slots.get(at);
    if (slot === undefined) {
      const members = new Set<Entry>();
      const timer = this.clock.setTimeout(() => {
        this.slots.delete(at);
        for (const member of members) this.guarded('probe turn', () => this.fire(member));
      }, at - now);
      slot = { timer, members };
      this.slots.set(at, slot);
    }
    slot.members.add(entry);
    entry.slot = at;
  }

  private unschedule(entry: Entry): void {
    const at = entry.slot;
    if (at === undefined) return;
    entry.slot = undefined;
    const slot = this.slots.get(at);
    if (slot === undefined) return;
    slot.members.delete(entry);
    if (slot.members.size === 0) {
      this.clock.clearTimeout(slot.timer);
      this.slots.delete(at);
    }
  }

  private fire(entry: Entry): void {
    entry.slot = undefined;
    if (entry.removed || this.stopped || entry.nextDueMs === null) return;
    const now = this.clock.now();
    // Keep the phase: advance by whole intervals past now (more than one after an event-loop stall).
    const behind = now - entry.nextDueMs;
    entry.nextDueMs += entry.intervalMs * Math.max(1, Math.floor(behind / entry.intervalMs) + 1);
    if (entry.inFlight !== null) {
      this.overlapSkipCount++;
      // Skipping the turn would double the interval of a hanging target whose timeout equals the
      // interval (its timeout fires just after the next due time) and delay its withdrawal past
      // interval × fall + timeout. Run the turn as soon as the probe in flight ends instead.
      if (!entry.queued) {
        entry.queued = true;
        void entry.inFlight.then(() =>
          this.guarded('probe turn', () => {
            entry.queued = false;
            if (!entry.removed && !this.stopped && entry.inFlight === null) void this.launch(entry);
          }),
        );
      }
      return;
    }
    void this.launch(entry);
  }

  /** Starts a probe of the entry; the promise never rejects. */
  private launch(entry: Entry): Promise<void> {
    if (entry.inFlight !== null) return entry.inFlight;
    const abort = (entry.abort ??= new AbortController());
    const startedWall = Date.now();
    const done = (result: ProbeResult): void => {
      entry.inFlight = null;
      if (abort.signal.aborted || entry.removed) return;
      this.guarded('probe result', () => this.onResult(entry.job.key, result, startedWall));
    };
    let promise: Promise<ProbeResult>;
    try {
      // Promise.resolve: a probe that breaks its contract and returns a plain value is still awaited safely.
      promise = Promise.resolve(this.probe({ address: entry.job.address, check: entry.job.check }, abort.signal));
    } catch (err) {
      promise = Promise.resolve({ ok: false, latencyMs: 0, reason: errorReason(err) });
    }
    entry.inFlight = promise.then(done, (err: unknown) => done({ ok: false, latencyMs: 0, reason: errorReason(err) }));
    return entry.inFlight;
  }

  private retire(entry: Entry): void {
    this.unschedule(entry);
    entry.abort?.abort();
  }

  /** Runs `fn`; a throw is logged and counted instead of escaping into a timer or a promise. */
  private guarded(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.internalErrorCount++;
      try {
        this.log.error({ reason: err instanceof Error ? err.message : String(err) }, `health scheduler: ${where} failed`);
      } catch {
        // A logger that throws has nowhere to report to; the count above still shows it.
      }
    }
  }
}
