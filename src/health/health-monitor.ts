/**
 * health/health-monitor: owns the probe targets, schedules their probes, keeps their rise/fall
 * state and the operator overrides, and answers `status()` for the query path from memory.
 *
 * Scheduling: one shared node-cron task fires every wall-clock second (`* * * * * *`). Each tick
 * places, with a sub-second timer, every target whose next due time falls within the coming
 * second. Each target has its own due time, advanced by exactly its interval from a random
 * initial phase in [0, interval), so intervals that do not divide 60 s are honoured and a
 * thousand targets are spread over the whole interval instead of firing on the same second
 * boundary. Timers are placed on a 50 ms grid, so the probes due within the same 50 ms start
 * together from one wake-up: a wake-up of an idle process costs a VM as much as the probe's own
 * work, and 1,000 probes a second spread one per millisecond cost twice the CPU of the same
 * probes in 20 groups. The phases themselves stay exact (only the start is rounded up).
 * A target whose previous probe is still running never gets a second one at once
 * (noOverlap): its turn waits for that probe to end (cut off at its timeout), then runs.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import cron from 'node-cron';
import type { Logger as CronLogger, ScheduledTask } from 'node-cron';
import type { Logger } from '../telemetry/logger.js';
import { silentLogger } from '../telemetry/logger.js';
import type { CheckSpec } from './check-spec.js';
import { canonicalAddress, checkLabel } from './check-spec.js';
import type { HealthView, MemberStatus } from './health-view.js';
import type { MemberHealth } from './member-health.js';
import { INITIAL_MEMBER_HEALTH, nextMemberHealth } from './member-health.js';
import { runProbe } from './probes/index.js';
import type { ProbeFn, ProbeResult } from './probes/index.js';
import { errorReason } from './probes/probe.js';

/** A member that uses a probe target: where it sits in the zones, and its answered address. */
export interface MemberRef {
  readonly zone: string;
  readonly pool: string;
  readonly address: string;
}

/** One (probe address, check) pair to monitor, with every member that depends on it. */
export interface TargetSpec {
  /** `probeKeyOf(address, check)`; targets are deduplicated and diffed by this key. */
  readonly probeKey: string;
  /** The probe address (the member's `probe`, else its own address). */
  readonly address: string;
  readonly check: CheckSpec;
  readonly members: readonly MemberRef[];
}

/** An operator override of a member's status; it wins over probe results. */
export type OverrideState = MemberStatus;

/** Monotonic time and timers, injectable so scheduling can be tested without waiting. */
export interface MonitorClock {
  /** Monotonic milliseconds (not wall-clock: a clock step must not stall or burst probes). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Starts calling `onTick` about once a second; the returned handle stops it. */
export type TickSource = (onTick: () => void) => { stop(): void };

/** Construction options of a HealthMonitor. */
export interface HealthMonitorOptions {
  readonly logger?: Logger;
  /** JSON file that keeps overrides across restarts; loaded on construction, rewritten atomically. */
  readonly stateFile?: string;
  /** Probe implementation; defaults to the real tcp/http/https probes. */
  readonly probe?: ProbeFn;
  readonly clock?: MonitorClock;
  /** Tick driver; defaults to one node-cron task firing every second. */
  readonly tickSource?: TickSource;
  /** Uniform [0, 1) source for the initial phases. */
  readonly random?: () => number;
  /** Extra wait beyond the longest check timeout before start() gives up on first probes. */
  readonly firstProbeSlackMs?: number;
  /** Called with every finished probe (check label and result): feeds the duration histogram. */
  readonly onProbe?: (checkLabel: string, result: ProbeResult) => void;
}

/** A status change, as told to `onChange` listeners (e.g. to broadcast to cluster workers). */
export type HealthChange =
  | {
      readonly kind: 'target';
      readonly version: number;
      readonly probeKey: string;
      readonly address: string;
      readonly status: 'up' | 'down';
      /** The failed probe's reason when going down ("HTTP 503"); "N consecutive successes" when going up. */
      readonly reason: string;
      /** True when the first probe of the target set the state. */
      readonly initial: boolean;
    }
  | { readonly kind: 'override'; readonly version: number; readonly address: string; readonly override: OverrideState | null };

/** Per-target state for the admin /status endpoint and the `explain` CLI. */
export interface TargetSnapshot {
  readonly probeKey: string;
  readonly address: string;
  readonly check: CheckSpec;
  readonly status: 'up' | 'down';
  /** False until the first probe finished (the target then counts as up). */
  readonly probed: boolean;
  /** Consecutive results of the same kind: > 0 successes, < 0 failures. */
  readonly streak: number;
  /** Wall-clock ISO time the last finished probe started, or null. */
  readonly lastProbeAt: string | null;
  readonly lastResult: 'ok' | 'fail' | null;
  readonly reason: string | null;
  readonly latencyMs: number | null;
  /** Wall-clock ISO time of the last up/down change, or null. */
  readonly since: string | null;
  readonly inFlight: boolean;
  readonly members: readonly MemberRef[];
}

/** Everything the monitor knows, at one version. */
export interface HealthSnapshot {
  readonly version: number;
  readonly targets: readonly TargetSnapshot[];
  readonly overrides: readonly { readonly address: string; readonly state: OverrideState }[];
}

/** Probe counts of one check, by result. */
export interface ProbeCounts {
  ok: number;
  fail: number;
  timeout: number;
}

/** Plain counters for metrics (read at scrape time). */
export interface HealthCounters {
  /** Finished probes by check label (`web`, or `http:8080` for unnamed checks). */
  readonly probes: Readonly<Record<string, Readonly<ProbeCounts>>>;
  readonly stateChanges: { readonly up: number; readonly down: number };
  readonly overrideChanges: number;
  /** Turns that found the target's previous probe still running (run once it ended, not in parallel). */
  readonly overlapSkips: number;
  /** Scheduler ticks node-cron reported missed (event loop blocked, or the wall clock jumped). */
  readonly missedTicks: number;
}

interface Target {
  readonly key: string;
  readonly address: string;
  readonly check: CheckSpec;
  readonly label: string;
  readonly intervalMs: number;
  members: readonly MemberRef[];
  status: 'up' | 'down';
  health: MemberHealth;
  lastProbeWall: number | null;
  lastResult: ProbeResult | null;
  changedWall: number | null;
  /** Monotonic due time of the next scheduled probe; null until the first probe was launched. */
  nextDueMs: number | null;
  /** The grid slot (monotonic ms) it is scheduled to fire in, if any. */
  timer: number | undefined;
  inFlight: Promise<void> | null;
  /** A turn came due while a probe was in flight: run it when that probe ends. */
  queued: boolean;
  /**
   * Aborted when the target is retired (removed, or the monitor stops), which ends its probe in
   * flight. One per target, not per probe: creating an AbortSignal costs as much as a tenth of a
   * probe, and at thousands of probes a second that shows.
   */
  abort: AbortController | null;
  removed: boolean;
}

const TICK_MS = 1000;
/** Probes due within the same SLOT_MS start together (see the header). */
const SLOT_MS = 50;
const MIN_INTERVAL_MS = 1000;
const STATE_FILE_VERSION = 1;
const OVERRIDE_STATES: ReadonlySet<string> = new Set(['up', 'down', 'drained']);

const realClock: MonitorClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The default tick driver: one node-cron task on `* * * * * *`, plus a watchdog that rebuilds it
 * when it stops firing (node-cron plans on the wall clock, so a backwards clock step stalls it).
 */
export function cronTickSource(logger: Logger, onMissed: () => void = () => undefined): TickSource {
  // node-cron's own logger would print to the console; route it to pino at low levels.
  const cronLogger: CronLogger = {
    info: (message) => logger.debug({ reason: message }, 'node-cron'),
    warn: (message) => logger.debug({ reason: message }, 'node-cron'),
    error: (message, err) => logger.error({ reason: String(err ?? message) }, 'node-cron error'),
    debug: (message) => logger.trace({ reason: String(message) }, 'node-cron'),
  };
  return (onTick) => {
    let lastTick = performance.now();
    const make = (): ScheduledTask => {
      const task = cron.schedule(
        '* * * * * *',
        () => {
          lastTick = performance.now();
          onTick();
        },
        { name: 'meridian-health-tick', noOverlap: true, logger: cronLogger, suppressMissedWarning: true },
      );
      task.on('execution:missed', () => onMissed());
      return task;
    };
    let task = make();
    const watchdog = setInterval(() => {
      if (performance.now() - lastTick < 3 * TICK_MS + 500) return;
      logger.warn({ reason: 'no scheduler tick for 3 s (wall clock stepped back?)' }, 'restarting health scheduler');
      void task.destroy();
      task = make();
      lastTick = performance.now();
    }, 2 * TICK_MS);
    // The watchdog alone must not keep a stopping process alive.
    watchdog.unref();
    return {
      stop: () => {
        clearInterval(watchdog);
        void task.destroy();
      },
    };
  };
}

/** Health checking for every probe target, and the HealthView the query path reads. */
export class HealthMonitor implements HealthView {
  private readonly targets = new Map<string, Target>();
  private readonly overrides = new Map<string, OverrideState>();
  private readonly listeners = new Set<(change: HealthChange) => void>();
  private readonly probeCounts = new Map<string, ProbeCounts>();
  private readonly log: Logger;
  private readonly probe: ProbeFn;
  private readonly onProbe: ((checkLabel: string, result: ProbeResult) => void) | undefined;
  private readonly clock: MonitorClock;
  /** Grid slot (monotonic ms) → its timer and the targets it fires. */
  private readonly slots = new Map<number, { timer: unknown; members: Set<Target> }>();
  private readonly tickSource: TickSource;
  private readonly random: () => number;
  private readonly slackMs: number;
  private readonly stateFile: string | undefined;
  private currentVersion = 0;
  private started = false;
  private stopped = false;
  private ticker: { stop(): void } | null = null;
  private writeChain: Promise<void> = Promise.resolve();
  private changesUp = 0;
  private changesDown = 0;
  private overrideChangeCount = 0;
  private overlapSkipCount = 0;
  private missedTickCount = 0;

  /** Loads the overrides from `options.stateFile` (synchronously; throws if the file is corrupt). */
  constructor(options: HealthMonitorOptions = {}) {
    this.log = options.logger ?? silentLogger();
    this.probe = options.probe ?? runProbe;
    this.onProbe = options.onProbe;
    this.clock = options.clock ?? realClock;
    this.tickSource = options.tickSource ?? cronTickSource(this.log, () => this.missedTickCount++);
    this.random = options.random ?? Math.random;
    this.slackMs = options.firstProbeSlackMs ?? 1000;
    this.stateFile = options.stateFile;
    if (this.stateFile !== undefined) this.loadStateFile(this.stateFile);
  }

  /** Grows on every change of any member's status, including override changes. */
  get version(): number {
    return this.currentVersion;
  }

  /**
   * Status of one member: its override if any, else its probe target's state (up while unprobed
   * or unknown). `address` must be canonical (see canonicalAddress); two Map lookups, no allocation.
   */
  status(probeKey: string | null, address: string): MemberStatus {
    const forced = this.overrides.get(address);
    if (forced !== undefined) return forced;
    if (probeKey === null) return 'up';
    const target = this.targets.get(probeKey);
    return target === undefined ? 'up' : target.status;
  }

  /**
   * Replaces the set of probe targets: keeps the state of targets whose key remains, stops removed
   * ones, and (once started) probes new ones at once. Resolves when those first probes finished.
   */
  setTargets(specs: readonly TargetSpec[]): Promise<void> {
    const wanted = new Map<string, TargetSpec>();
    for (const spec of specs) {
      const seen = wanted.get(spec.probeKey);
      // The same key twice (two zones built their lists separately): one target, all members.
      wanted.set(spec.probeKey, seen === undefined ? spec : { ...seen, members: [...seen.members, ...spec.members] });
    }
    for (const [key, target] of this.targets) {
      if (wanted.has(key)) continue;
      target.removed = true;
      this.retire(target);
      this.targets.delete(key);
      // Its members now count as up (unknown key), so answers derived from it are stale.
      if (target.status === 'down') this.currentVersion++;
    }
    const added: Target[] = [];
    for (const [key, spec] of wanted) {
      const existing = this.targets.get(key);
      if (existing !== undefined) {
        existing.members = spec.members;
        continue;
      }
      const target: Target = {
        key,
        address: spec.address,
        check: spec.check,
        label: checkLabel(spec.check),
        intervalMs: Math.max(MIN_INTERVAL_MS, spec.check.intervalMs),
        members: spec.members,
        status: 'up',
        health: INITIAL_MEMBER_HEALTH,
        lastProbeWall: null,
        lastResult: null,
        changedWall: null,
        nextDueMs: null,
        timer: undefined,
        inFlight: null,
        queued: false,
        abort: null,
        removed: false,
      };
      this.targets.set(key, target);
      added.push(target);
    }
    if (!this.started || this.stopped || added.length === 0) return Promise.resolve();
    return this.probeFirst(added);
  }

  /**
   * Runs the first probe of every target concurrently and starts the schedule. Resolves when all
   * first probes finished, or after the longest check timeout plus slack, whichever comes first.
   */
  start(): Promise<void> {
    if (this.started) return Promise.resolve();
    this.started = true;
    this.ticker = this.tickSource(() => this.onTick());
    return this.probeFirst([...this.targets.values()]);
  }

  /** Stops the schedule, aborts in-flight probes, and waits for them and for pending state-file writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.stop();
    this.ticker = null;
    const inFlight: Promise<void>[] = [];
    for (const target of this.targets.values()) {
      if (target.inFlight !== null) inFlight.push(target.inFlight);
      this.retire(target);
    }
    await Promise.all(inFlight);
    await this.writeChain;
  }

  /**
   * Forces a member (by answered address) up, down or drained, or clears the override with null.
   * Takes effect at once; the returned promise settles when the state file has been rewritten.
   */
  setOverride(address: string, state: OverrideState | null): Promise<void> {
    const canonical = canonicalAddress(address);
    if (canonical === null) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
    if (state !== null && !OVERRIDE_STATES.has(state)) throw new TypeError(`bad override state: ${String(state)}`);
    const previous = this.overrides.get(canonical) ?? null;
    if (previous === state) return this.persist();
    if (state === null) this.overrides.delete(canonical);
    else this.overrides.set(canonical, state);
    this.currentVersion++;
    this.overrideChangeCount++;
    this.log.info(
      { member: canonical, reason: state === null ? `override ${previous ?? 'none'} cleared` : `override ${state}` },
      'member override',
    );
    this.emit({ kind: 'override', version: this.currentVersion, address: canonical, override: state });
    return this.persist();
  }

  /** The override of one member (any address spelling), or null. */
  overrideOf(address: string): OverrideState | null {
    const canonical = canonicalAddress(address);
    return canonical === null ? null : (this.overrides.get(canonical) ?? null);
  }

  /** Per-target state and the overrides, sorted by key and address. */
  snapshot(): HealthSnapshot {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    const targets = [...this.targets.values()]
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((t): TargetSnapshot => ({
        probeKey: t.key,
        address: t.address,
        check: t.check,
        status: t.status,
        probed: t.health.probed,
        streak: t.health.streak,
        lastProbeAt: iso(t.lastProbeWall),
        lastResult: t.lastResult === null ? null : t.lastResult.ok ? 'ok' : 'fail',
        reason: t.lastResult === null || t.lastResult.ok ? null : t.lastResult.reason,
        latencyMs: t.lastResult?.latencyMs ?? null,
        since: iso(t.changedWall),
        inFlight: t.inFlight !== null,
        members: t.members,
      }));
    return { version: this.currentVersion, targets, overrides: this.snapshotOverrides() };
  }

  /** Calls `listener` after every status change; returns a function that unsubscribes it. */
  onChange(listener: (change: HealthChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A copy of the counters, for a metrics collect() callback. */
  get counters(): HealthCounters {
    const probes: Record<string, ProbeCounts> = {};
    for (const [label, counts] of this.probeCounts) probes[label] = { ...counts };
    return {
      probes,
      stateChanges: { up: this.changesUp, down: this.changesDown },
      overrideChanges: this.overrideChangeCount,
      overlapSkips: this.overlapSkipCount,
      missedTicks: this.missedTickCount,
    };
  }

  private probeFirst(targets: readonly Target[]): Promise<void> {
    const now = this.clock.now();
    const pending: Promise<void>[] = [];
    let longest = 0;
    for (const target of targets) {
      if (target.nextDueMs !== null || target.removed) continue;
      // A random phase spreads targets over their whole interval (and within the second).
      target.nextDueMs = now + this.random() * target.intervalMs;
      pending.push(this.launch(target));
      longest = Math.max(longest, target.check.timeoutMs);
    }
    // Place the due times that fall before the next cron tick.
    this.onTick();
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
    const horizon = now + TICK_MS;
    for (const target of this.targets.values()) {
      if (target.nextDueMs === null || target.timer !== undefined || target.nextDueMs >= horizon) continue;
      this.schedule(target, now);
    }
  }

  /** Puts the target in the grid slot at or after its due time; one timer fires a whole slot. */
  private schedule(target: Target, now: number): void {
    const at = Math.max(now, Math.ceil(target.nextDueMs! / SLOT_MS) * SLOT_MS);
    let slot = this.slots.get(at);
    if (slot === undefined) {
      const members = new Set<Target>();
      const timer = this.clock.setTimeout(() => {
        this.slots.delete(at);
        for (const member of members) this.fire(member);
      }, at - now);
      slot = { timer, members };
      this.slots.set(at, slot);
    }
    slot.members.add(target);
    target.timer = at;
  }


  private unschedule(target: Target): void {
    const at = target.timer;
    if (at === undefined) return;
    target.timer = undefined;
    const slot = this.slots.get(at);
    if (slot === undefined) return;
    slot.members.delete(target);
    if (slot.members.size === 0) {
      this.clock.clearTimeout(slot.timer);
      this.slots.delete(at);
    }
  }

  private fire(target: Target): void {
    target.timer = undefined;
    if (target.removed || this.stopped || target.nextDueMs === null) return;
    const now = this.clock.now();
    // Keep the phase: advance by whole intervals past now (more than one after an event-loop stall).
    const behind = now - target.nextDueMs;
    target.nextDueMs += target.intervalMs * Math.max(1, Math.floor(behind / target.intervalMs) + 1);
    if (target.inFlight !== null) {
      this.overlapSkipCount++;
      // Skipping the turn would double the interval of a hanging target whose timeout equals the
      // interval (its timeout fires just after the next due time) and delay its withdrawal past
      // interval × fall + timeout. Run the turn as soon as the probe in flight ends instead.
      if (!target.queued) {
        target.queued = true;
        void target.inFlight.then(() => {
          target.queued = false;
          if (!target.removed && !this.stopped && target.inFlight === null) void this.launch(target);
        });
      }
      return;
    }
    void this.launch(target);
  }

  private launch(target: Target): Promise<void> {
    if (target.inFlight !== null) return target.inFlight;
    const abort = (target.abort ??= new AbortController());
    const startedWall = Date.now();
    const done = (result: ProbeResult): void => {
      target.inFlight = null;
      if (abort.signal.aborted || target.removed) return;
      this.record(target, result, startedWall);
    };
    let promise: Promise<ProbeResult>;
    try {
      promise = this.probe({ address: target.address, check: target.check }, abort.signal);
    } catch (err) {
      promise = Promise.resolve({ ok: false, latencyMs: 0, reason: errorReason(err) });
    }
    target.inFlight = promise.then(done, (err: unknown) => done({ ok: false, latencyMs: 0, reason: errorReason(err) }));
    return target.inFlight;
  }

  private record(target: Target, result: ProbeResult, startedWall: number): void {
    let counts = this.probeCounts.get(target.label);
    if (counts === undefined) {
      counts = { ok: 0, fail: 0, timeout: 0 };
      this.probeCounts.set(target.label, counts);
    }
    if (result.ok) counts.ok++;
    else if (result.reason.startsWith('timeout')) counts.timeout++;
    else counts.fail++;
    this.onProbe?.(target.label, result);

    const previous = target.health;
    const next = nextMemberHealth(previous, result, target.check);
    target.health = next;
    target.lastProbeWall = startedWall;
    target.lastResult = result;
    if (next.up === previous.up) return;

    target.status = next.up ? 'up' : 'down';
    target.changedWall = Date.now();
    this.currentVersion++;
    const initial = !previous.probed;
    // Down: the probe's own reason ("HTTP 503"), so alerts can match on it. Up: how it got there.
    const reason = result.ok ? `${next.streak} consecutive successes` : result.reason;
    if (next.up) this.changesUp++;
    else this.changesDown++;
    this.logChange(target, reason, initial);
    this.emit({
      kind: 'target',
      version: this.currentVersion,
      probeKey: target.key,
      address: target.address,
      status: target.status,
      reason,
      initial,
    });
  }

  private logChange(target: Target, reason: string, initial: boolean): void {
    // A first probe's result is not news: the server sums those up in one line (debug here).
    const level = initial ? 'debug' : target.status === 'up' ? 'info' : 'warn';
    const msg = target.status === 'up' ? 'member up' : initial ? 'member down (first probe)' : 'member down';
    if (target.members.length === 0) {
      this.log[level]({ member: target.address, check: target.label, reason }, msg);
      return;
    }
    // One line per member, so a grep for a zone, pool or answered address finds it.
    for (const m of target.members) this.log[level]({ zone: m.zone, pool: m.pool, member: m.address, check: target.label, reason }, msg);
  }

  private emit(change: HealthChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ reason: errorReason(err) }, 'health onChange listener threw');
      }
    }
  }

  private retire(target: Target): void {
    this.unschedule(target);
    target.abort?.abort();
  }

  private persist(): Promise<void> {
    const file = this.stateFile;
    if (file === undefined) return Promise.resolve();
    // Writes run one after another; each writes the overrides as they are when it starts.
    const write = this.writeChain.then(() => this.writeStateFile(file));
    this.writeChain = write.catch((err: unknown) => {
      this.log.error({ file, reason: errorReason(err) }, 'cannot write health state file');
    });
    return write;
  }

  private async writeStateFile(file: string): Promise<void> {
    const overrides: Record<string, OverrideState> = {};
    for (const { address, state } of this.snapshotOverrides()) overrides[address] = state;
    const text = `${JSON.stringify({ version: STATE_FILE_VERSION, overrides }, null, 2)}\n`;
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const handle = await open(temp, 'w', 0o644);
      try {
        await handle.writeFile(text, 'utf8');
        // fsync before rename, so a crash leaves the old file or the new one, never an empty one.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  private snapshotOverrides(): { address: string; state: OverrideState }[] {
    return [...this.overrides.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([address, state]) => ({ address, state }));
  }

  private loadStateFile(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return;
      throw err;
    }
    // A corrupt file is fatal: silently dropping a forced `down` would put a member back in service.
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`health state file ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const overrides = (data as { overrides?: unknown } | null)?.overrides;
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) {
      throw new Error(`health state file ${file}: no "overrides" object`);
    }
    for (const [address, state] of Object.entries(overrides)) {
      const canonical = canonicalAddress(address);
      if (canonical === null || typeof state !== 'string' || !OVERRIDE_STATES.has(state)) {
        throw new Error(`health state file ${file}: bad override ${JSON.stringify(address)}: ${JSON.stringify(state)}`);
      }
      this.overrides.set(canonical, state as OverrideState);
    }
    if (this.overrides.size > 0) this.currentVersion++;
  }
}
