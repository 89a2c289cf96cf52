/**
 * A served pool's members as operators are shown them (/status, `explain`, the member-up gauge):
 * how the answers count each one now and its probe target's last result. The one place that
 * reads a pool against health; each caller only shapes what it gets.
 */
import type { HealthSnapshot, HealthView, MemberStatus, TargetSnapshot } from '../health/index.js';
import type { ServedMember, ServedPool } from '../zones/index.js';

/** How the answers count a member: its health, or `disabled` (`enabled: false` in the zone file, never answered). */
export type ShownStatus = MemberStatus | 'disabled';

export interface MemberView {
  readonly member: ServedMember;
  readonly status: ShownStatus;
  /** Its probe target in this process's monitor; undefined without a check or before the target exists. */
  readonly target: TargetSnapshot | undefined;
}

/** A member's status as the answers count it, in the health view they use (probes, a cluster replica, overrides alone). */
export function shownStatus(member: ServedMember, health: HealthView): ShownStatus {
  return member.enabled ? health.status(member.probeKey, member.address) : 'disabled';
}

/** Reads pools against one health view and one snapshot of the monitor's targets. */
export class MemberViews {
  private readonly targets: ReadonlyMap<string, TargetSnapshot>;

  constructor(
    private readonly health: HealthView,
    snapshot: HealthSnapshot,
  ) {
    this.targets = new Map(snapshot.targets.map((target) => [target.probeKey, target]));
  }

  of(pool: ServedPool): MemberView[] {
    return pool.members.map((member) => ({
      member,
      status: shownStatus(member, this.health),
      target: member.probeKey === null ? undefined : this.targets.get(member.probeKey),
    }));
  }
}
