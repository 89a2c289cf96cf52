/**
 * health/health-monitor: member health for the server, as one object. It wires three parts and
 * keeps the surface the server, admin and `explain` use:
 * - `ProbeScheduler` (probe-scheduler.ts): the node-cron ticks, each target's phase, the 50 ms
 *   slot grid, running probes without overlap;
 * - `OverrideStore` (override-store.ts): the operator overrides and their state file, written
 *   before an override takes effect;
 * - `HealthState` (health-state.ts): rise/fall per target, the version, listeners, logs, counters.
 * It answers `status()` for the query path from memory.
 */
import { isIP } from 'node:net';
import type { RecentChange } from './recent-changes.js';
import type { Logger } from '../telemetry/logger.js';
import { silentLogger } from '../telemetry/logger.js';
import { canonicalAddress } from './check-spec.js';
import type { HealthView, MemberStatus } from './health-view.js';
import type { HealthChange, HealthSnapshot, OverrideState, OwnViewChange, ProbeCounts, TargetSpec } from './health-state.js';
import { HealthState } from './health-state.js';
import { OverrideStore } from './override-store.js';
import type { MonitorClock, TickSource } from './tick-source.js';
import { ProbeScheduler } from './probe-scheduler.js';
import { runProbe } from './probes/index.js';
import type { ProbeFn, ProbeResult } from './probes/index.js';

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
  /** Local addresses probes are bound to (--probe-source), at most one per family. */
  readonly probeSources?: readonly string[];
}

/** Binds each probe to the source address of its target's family, when one is given. */
function fromSources(probe: ProbeFn, sources: readonly string[]): ProbeFn {
  const v4 = sources.find((source) => isIP(source) === 4);
  const v6 = sources.find((source) => isIP(source) === 6);
  if (v4 === undefined && v6 === undefined) return probe;
  return (target, signal) => {
    const source = isIP(target.address) === 6 ? v6 : v4;
    return probe(source === undefined ? target : { ...target, source }, signal);
  };
}

/** Plain counters for metrics (read at scrape time). */
export interface HealthCounters {
  /** Finished probes by check label (`web`, or `http:8080` for unnamed checks). */
  readonly probes: Readonly<Record<string, Readonly<ProbeCounts>>>;
  readonly stateChanges: { readonly up: number; readonly down: number };
  readonly overrideChanges: number;
  /** Turns that found the target's previous probe still running (run once it ended, not in parallel). */
  readonly overlapSkips: number;
  /** Scheduler ticks that did not come (event loop blocked, or the scheduler restarted). */
  readonly missedTicks: number;
  /** Exceptions caught in a scheduler tick, timer or probe completion (each logged). */
  readonly internalErrors: number;
}

/** Health checking for every probe target, and the HealthView the query path reads. */
export class HealthMonitor implements HealthView {
  private readonly overrides: OverrideStore;
  private readonly state: HealthState;
  private readonly scheduler: ProbeScheduler;
  private overrideRoute: ((address: string, state: OverrideState | null) => Promise<void>) | null = null;
  private readonly retuneListeners = new Set<(probeKeys: readonly string[]) => void>();

  /** Loads the overrides from `options.stateFile` (synchronously; throws if the file is corrupt). */
  constructor(options: HealthMonitorOptions = {}) {
    const logger = options.logger ?? silentLogger();
    // The store calls back into the state in the turn an override takes effect, so the version moves with it.
    this.overrides = new OverrideStore(options.stateFile, (applied) => this.state.overrideApplied(applied.address, applied.previous, applied.state));
    this.state = new HealthState(this.overrides, logger, options.onProbe);
    if (this.overrides.size > 0) this.state.invalidate();
    this.scheduler = new ProbeScheduler({
      logger,
      probe: fromSources(options.probe ?? runProbe, options.probeSources ?? []),
      onResult: (key, result, startedWall) => this.state.record(key, result, startedWall),
      clock: options.clock,
      tickSource: options.tickSource,
      random: options.random,
      firstProbeSlackMs: options.firstProbeSlackMs,
    });
  }

  /** Grows on every change of any member's status, including override changes. */
  get version(): number {
    return this.state.version;
  }

  /**
   * Status of one member: its override if any, else its probe target's state (up while unprobed
   * or unknown). `address` must be canonical (see canonicalAddress); two Map lookups, no allocation.
   */
  status(probeKey: string | null, address: string): MemberStatus {
    return this.state.status(probeKey, address);
  }

  /**
   * Replaces the set of probe targets: keeps the state of targets whose key remains, stops removed
   * ones, and (once started) probes new ones at once. Resolves when those first probes finished.
   */
  setTargets(specs: readonly TargetSpec[]): Promise<void> {
    const { removed, added, retuned } = this.state.setTargets(specs);
    for (const key of removed) this.scheduler.remove(key);
    if (retuned.length > 0) for (const listener of this.retuneListeners) listener(retuned);
    return this.scheduler.add(added.map((spec) => ({ key: spec.probeKey, address: spec.address, check: spec.check })));
  }

  /**
   * Runs the first probe of every target concurrently and starts the schedule. Resolves when all
   * first probes finished, or after the longest check timeout plus slack, whichever comes first.
   */
  start(): Promise<void> {
    return this.scheduler.start();
  }

  /** Stops the schedule, aborts in-flight probes, and waits for them and for pending state-file writes. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.overrides.settled();
  }

  /**
   * Forces a member (by answered address) up, down or drained, or clears the override with null.
   * The state file is written first: the override takes effect (and is told to `onChange`
   * listeners) only once it is saved. Rejects, changing nothing, on a bad address or state or
   * when the state file cannot be written.
   */
  async setOverride(address: string, state: OverrideState | null): Promise<void> {
    if (this.overrideRoute === null) {
      await this.overrides.set(address, state);
      return;
    }
    const canonical = canonicalAddress(address);
    if (canonical === null) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
    await this.overrideRoute(canonical, state);
  }

  /**
   * In a fleet, overrides go through the fleet: `route` stores one for every instance and resolves
   * once it is in force here (applied through `applyOverride`). Null: this instance's alone again.
   */
  routeOverrides(route: ((address: string, state: OverrideState | null) => Promise<void>) | null): void {
    this.overrideRoute = route;
  }

  /** Applies an override here (state file first, as always): what the fleet delivers. */
  async applyOverride(address: string, state: OverrideState | null): Promise<void> {
    await this.overrides.set(address, state);
  }

  /** The overrides in force here, as (canonical address, state) pairs. */
  overrideEntries(): [string, OverrideState][] {
    return [...this.overrides.entries()];
  }

  /** Calls `listener` after every change of this instance's own view (its probes), whatever answers use. */
  onOwnView(listener: (change: OwnViewChange) => void): () => void {
    return this.state.onOwnView(listener);
  }

  /**
   * Calls `listener` with the kept targets whose check a setTargets changed in what decides (quorum,
   * name) but not in what is probed: their probe state is kept, and the fleet decides again at once.
   */
  onRetuned(listener: (probeKeys: readonly string[]) => void): () => void {
    this.retuneListeners.add(listener);
    return () => {
      this.retuneListeners.delete(listener);
    };
  }

  /** The fleet's verdict for a probe target (null: this instance decides alone); see HealthState.setVerdict. */
  setVerdict(probeKey: string, verdict: 'up' | 'down' | null, reason: string): void {
    this.state.setVerdict(probeKey, verdict, reason);
  }

  /** The override of one member (any address spelling), or null. */
  overrideOf(address: string): OverrideState | null {
    const canonical = canonicalAddress(address);
    return canonical === null ? null : (this.overrides.get(canonical) ?? null);
  }

  /** Per-target state and the overrides, sorted by key and address. */
  snapshot(): HealthSnapshot {
    return this.state.snapshot(this.overrides.entries(), (key) => this.scheduler.isInFlight(key));
  }

  /** The last member state changes (probe results and overrides), oldest first: the status page's timeline. */
  recentChanges(): RecentChange[] {
    return this.state.recentChanges();
  }

  /** Calls `listener` after every status change; returns a function that unsubscribes it. */
  onChange(listener: (change: HealthChange) => void): () => void {
    return this.state.onChange(listener);
  }

  /** A copy of the counters, for a metrics collect() callback. */
  get counters(): HealthCounters {
    return { ...this.state.counters, ...this.scheduler.counters };
  }
}
