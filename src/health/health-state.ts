/**
 * health/health-state: the state core of member health. Keeps every probe target's rise/fall
 * state, the version that moves on every change of any member's status (probe results and
 * overrides alike), the change listeners, the state-change logs and the counters for metrics.
 * It does no I/O and no scheduling: the scheduler hands it finished probes, the override store
 * hands it applied overrides, and the query path asks it `status()`.
 */
import type { Logger } from '../telemetry/logger.js';
import type { CheckSpec } from './check-spec.js';
import { checkLabel, quorumText } from './check-spec.js';
import type { MemberStatus } from './health-view.js';
import type { MemberHealth } from './member-health.js';
import { INITIAL_MEMBER_HEALTH, nextMemberHealth } from './member-health.js';
import type { ProbeResult } from './probes/index.js';
import { errorReason } from './probes/probe.js';
import { RecentChanges, type RecentChange } from './recent-changes.js';

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
  /** What answers use: the fleet's verdict when there is one, else this instance's own probes. */
  readonly status: 'up' | 'down';
  /** This instance's own view, from its own probes and rise/fall. */
  readonly own: 'up' | 'down';
  /** The fleet's verdict (quorum of fresh views), or null when this instance decides alone. */
  readonly verdict: 'up' | 'down' | null;
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

/** A change of this instance's own view of a target (its probes moved it), whatever answers use. */
export interface OwnViewChange {
  readonly probeKey: string;
  readonly address: string;
  readonly check: CheckSpec;
  readonly status: 'up' | 'down';
  readonly reason: string;
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

/** What the state core counts. */
export interface StateCounters {
  /** Finished probes by check label (`web`, or `http:8080` for unnamed checks). */
  readonly probes: Readonly<Record<string, Readonly<ProbeCounts>>>;
  readonly stateChanges: { readonly up: number; readonly down: number };
  readonly overrideChanges: number;
}

/** The overrides as the state core reads them (keyed by canonical address). */
export interface OverrideLookup {
  get(address: string): OverrideState | undefined;
}

interface TargetState {
  readonly key: string;
  readonly address: string;
  /** Replaced by a reload that changes only what decides (quorum, name), never what is probed. */
  check: CheckSpec;
  label: string;
  members: readonly MemberRef[];
  /** What answers use: `verdict ?? own`. */
  status: 'up' | 'down';
  own: 'up' | 'down';
  verdict: 'up' | 'down' | null;
  health: MemberHealth;
  lastProbeWall: number | null;
  lastResult: ProbeResult | null;
  changedWall: number | null;
}

const byKey = <T>(key: (item: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export class HealthState {
  private readonly targets = new Map<string, TargetState>();
  private readonly listeners = new Set<(change: HealthChange) => void>();
  private readonly ownViewListeners = new Set<(change: OwnViewChange) => void>();
  private readonly probeCounts = new Map<string, ProbeCounts>();
  /** The last changes, for the status page's timeline. */
  private readonly changes = new RecentChanges();
  private currentVersion = 0;
  private changesUp = 0;
  private changesDown = 0;
  private overrideChangeCount = 0;

  constructor(
    private readonly overrides: OverrideLookup,
    private readonly log: Logger,
    /** Called with every finished probe (check label and result): feeds the duration histogram. */
    private readonly onProbe?: (checkLabel: string, result: ProbeResult) => void,
  ) {}

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
   * Replaces the set of targets: keeps the state of targets whose key remains (with the new member
   * lists) and drops the others. Specs with the same key are merged (two zones built their lists
   * separately). Returns the keys dropped, the specs added, and the keys kept whose check changed
   * in what decides rather than what is probed (its quorum or name: not part of the key), whose
   * probe state is kept and whose new check is in force at once.
   */
  setTargets(specs: readonly TargetSpec[]): { removed: string[]; added: TargetSpec[]; retuned: string[] } {
    const wanted = new Map<string, TargetSpec>();
    for (const spec of specs) {
      const seen = wanted.get(spec.probeKey);
      wanted.set(spec.probeKey, seen === undefined ? spec : { ...seen, members: [...seen.members, ...spec.members] });
    }
    const removed: string[] = [];
    for (const [key, target] of this.targets) {
      if (wanted.has(key)) continue;
      this.targets.delete(key);
      removed.push(key);
      // Its members now count as up (unknown key), so answers derived from it are stale.
      if (target.status === 'down') this.currentVersion++;
    }
    const added: TargetSpec[] = [];
    const retuned: string[] = [];
    for (const [key, spec] of wanted) {
      const existing = this.targets.get(key);
      if (existing !== undefined) {
        existing.members = spec.members;
        if (quorumText(existing.check.quorum) !== quorumText(spec.check.quorum) || existing.check.name !== spec.check.name) {
          existing.check = spec.check;
          existing.label = checkLabel(spec.check);
          retuned.push(key);
        }
        continue;
      }
      this.targets.set(key, {
        key,
        address: spec.address,
        check: spec.check,
        label: checkLabel(spec.check),
        members: spec.members,
        status: 'up',
        own: 'up',
        verdict: null,
        health: INITIAL_MEMBER_HEALTH,
        lastProbeWall: null,
        lastResult: null,
        changedWall: null,
      });
      added.push(spec);
    }
    return { removed, added, retuned };
  }

  /** Takes one finished probe of a target (ignored if the target is gone): counts, rise/fall, change. */
  record(probeKey: string, result: ProbeResult, startedWall: number): void {
    const target = this.targets.get(probeKey);
    if (target === undefined) return;
    let counts = this.probeCounts.get(target.label);
    if (counts === undefined) {
      counts = { ok: 0, fail: 0, timeout: 0 };
      this.probeCounts.set(target.label, counts);
    }
    if (result.ok) counts.ok++;
    else if (result.reason.startsWith('timeout')) counts.timeout++;
    else counts.fail++;

    const previous = target.health;
    const next = nextMemberHealth(previous, result, target.check);
    target.health = next;
    target.lastProbeWall = startedWall;
    target.lastResult = result;
    if (next.up !== previous.up) {
      target.own = next.up ? 'up' : 'down';
      // Down: the probe's own reason ("HTTP 503"), so alerts can match on it. Up: how it got there.
      const reason = result.ok ? `${next.streak} consecutive successes` : result.reason;
      // Alone, the own view is what answers use; in a fleet, the listeners (the fleet's quorum) decide.
      if (target.verdict === null) this.applyStatus(target, target.own, reason, !previous.probed, 'probe');
      this.emitOwnView({ probeKey, address: target.address, check: target.check, status: target.own, reason });
    }
    // Last: a throwing observer must not leave the state half-updated.
    this.onProbe?.(target.label, result);
  }

  /**
   * The fleet's verdict for a target (null: decide alone, with this instance's own view). Answers
   * change at once when what they use changes; `reason` says why, for the log and the timeline.
   */
  setVerdict(probeKey: string, verdict: 'up' | 'down' | null, reason: string): void {
    const target = this.targets.get(probeKey);
    if (target === undefined || target.verdict === verdict) return;
    target.verdict = verdict;
    const status = verdict ?? target.own;
    if (status !== target.status) this.applyStatus(target, status, reason, !target.health.probed, 'fleet');
  }

  /** Calls `listener` after every change of this instance's own view; returns its removal. */
  onOwnView(listener: (change: OwnViewChange) => void): () => void {
    this.ownViewListeners.add(listener);
    return () => {
      this.ownViewListeners.delete(listener);
    };
  }

  private applyStatus(target: TargetState, status: 'up' | 'down', reason: string, initial: boolean, kind: 'probe' | 'fleet'): void {
    target.status = status;
    target.changedWall = Date.now();
    this.currentVersion++;
    if (status === 'up') this.changesUp++;
    else this.changesDown++;
    this.logChange(target, reason, initial);
    this.changes.add({ at: new Date(target.changedWall).toISOString(), kind, address: target.address, state: target.status, reason, check: target.label, initial, members: target.members });
    this.emit({ kind: 'target', version: this.currentVersion, probeKey: target.key, address: target.address, status: target.status, reason, initial });
  }

  private emitOwnView(change: OwnViewChange): void {
    for (const listener of this.ownViewListeners) {
      try {
        listener(change);
      } catch (err) {
        this.log.error({ reason: errorReason(err) }, 'health own-view listener threw');
      }
    }
  }

  /** Takes an override the store has just applied (written to the state file first, when there is one). */
  overrideApplied(address: string, previous: OverrideState | null, state: OverrideState | null): void {
    this.currentVersion++;
    this.overrideChangeCount++;
    this.log.info({ member: address, reason: state === null ? `override ${previous ?? 'none'} cleared` : `override ${state}` }, 'member override');
    this.changes.add({ at: new Date().toISOString(), kind: 'override', address, state: state ?? 'cleared', reason: 'override', check: null, initial: false, members: this.membersAnswering(address) });
    this.emit({ kind: 'override', version: this.currentVersion, address, override: state });
  }

  /** The last member state changes (probe results and overrides), oldest first. */
  recentChanges(): RecentChange[] {
    return this.changes.list();
  }

  /** The members (zone, pool) answered at `address`, from the probe targets that list it. */
  private membersAnswering(address: string): MemberRef[] {
    const found: MemberRef[] = [];
    for (const target of this.targets.values()) for (const member of target.members) if (member.address === address) found.push(member);
    return found;
  }

  /** Moves the version without a change to tell (overrides loaded from the state file at start-up). */
  invalidate(): void {
    this.currentVersion++;
  }

  /** Calls `listener` after every status change; returns a function that unsubscribes it. */
  onChange(listener: (change: HealthChange) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Per-target state and the given overrides, sorted by key and address. */
  snapshot(
    overrides: Iterable<readonly [string, OverrideState]>,
    inFlight: (probeKey: string) => boolean,
  ): HealthSnapshot {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    const targets = [...this.targets.values()].sort(byKey((t) => t.key)).map(
      (t): TargetSnapshot => ({
        probeKey: t.key,
        address: t.address,
        check: t.check,
        status: t.status,
        own: t.own,
        verdict: t.verdict,
        probed: t.health.probed,
        streak: t.health.streak,
        lastProbeAt: iso(t.lastProbeWall),
        lastResult: t.lastResult === null ? null : t.lastResult.ok ? 'ok' : 'fail',
        reason: t.lastResult === null || t.lastResult.ok ? null : t.lastResult.reason,
        latencyMs: t.lastResult?.latencyMs ?? null,
        since: iso(t.changedWall),
        inFlight: inFlight(t.key),
        members: t.members,
      }),
    );
    const overrideList = [...overrides].sort(byKey(([address]) => address)).map(([address, state]) => ({ address, state }));
    return { version: this.currentVersion, targets, overrides: overrideList };
  }

  /** A copy of the counters. */
  get counters(): StateCounters {
    const probes: Record<string, ProbeCounts> = {};
    for (const [label, counts] of this.probeCounts) probes[label] = { ...counts };
    return { probes, stateChanges: { up: this.changesUp, down: this.changesDown }, overrideChanges: this.overrideChangeCount };
  }

  private logChange(target: TargetState, reason: string, initial: boolean): void {
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
}
