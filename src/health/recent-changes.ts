/**
 * health/recent-changes: the last few hundred member state changes (probe results that moved a
 * target up or down, and operator overrides), newest last, for the status page's timeline. A
 * fixed-size ring: a flapping member cannot grow it, and nothing here runs on the query path.
 */
import type { MemberRef } from './health-state.js';

/** One change as the timeline shows it. */
export interface RecentChange {
  /** Wall-clock ISO time of the change. */
  readonly at: string;
  readonly kind: 'probe' | 'override' | 'fleet';
  /** The probe address (probe changes) or the member's address (overrides). */
  readonly address: string;
  /** Probe changes: the new state. Overrides: the forced state, or 'cleared'. */
  readonly state: 'up' | 'down' | 'drained' | 'cleared';
  /** Why: the failed probe's reason, "N consecutive successes", or "override". */
  readonly reason: string;
  /** The check's label (probe changes). */
  readonly check: string | null;
  /** True when a target's first probe set its state. */
  readonly initial: boolean;
  /** The members (zone, pool, answered address) that the change affects. */
  readonly members: readonly MemberRef[];
}

/** A ring of the last `capacity` changes. */
export class RecentChanges {
  private readonly ring: (RecentChange | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity = 200) {
    this.ring = new Array<RecentChange | undefined>(capacity);
  }

  add(change: RecentChange): void {
    this.ring[this.next] = change;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Oldest first. */
  list(): RecentChange[] {
    const out: RecentChange[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.ring[(this.next - this.count + i + this.capacity) % this.capacity]!);
    return out;
  }
}
