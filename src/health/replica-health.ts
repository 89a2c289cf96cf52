/**
 * A HealthView fed by another process: a cluster worker's copy of the primary's health state.
 * The primary probes; workers apply the state it sends (a full sync, then each change) and
 * answer from it, so probing runs once however many workers answer queries.
 */
import type { HealthChange, HealthSnapshot } from './health-state.js';
import type { HealthView, MemberStatus } from './health-view.js';

/** The full state a replica needs: targets that are down (the rest count as up) and overrides. */
export interface HealthSync {
  down: string[];
  overrides: [string, MemberStatus][];
}

/** Builds the sync message from the primary's snapshot. */
export function healthSyncOf(snapshot: HealthSnapshot): HealthSync {
  return {
    down: snapshot.targets.filter((target) => target.status === 'down').map((target) => target.probeKey),
    overrides: snapshot.overrides.map((o) => [o.address, o.state]),
  };
}

export class ReplicaHealth implements HealthView {
  private currentVersion = 0;
  private readonly down = new Set<string>();
  private readonly overrides = new Map<string, MemberStatus>();

  get version(): number {
    return this.currentVersion;
  }

  status(probeKey: string | null, address: string): MemberStatus {
    const override = this.overrides.get(address);
    if (override !== undefined) return override;
    return probeKey !== null && this.down.has(probeKey) ? 'down' : 'up';
  }

  /** Replaces everything with the primary's current state. */
  applySync(sync: HealthSync): void {
    this.down.clear();
    for (const key of sync.down) this.down.add(key);
    this.overrides.clear();
    for (const [address, state] of sync.overrides) this.overrides.set(address, state);
    this.currentVersion++;
  }

  /** Applies one change, as the primary's monitor reported it. */
  applyChange(change: HealthChange): void {
    if (change.kind === 'target') {
      if (change.status === 'down') this.down.add(change.probeKey);
      else this.down.delete(change.probeKey);
    } else if (change.override === null) this.overrides.delete(change.address);
    else this.overrides.set(change.address, change.override);
    this.currentVersion++;
  }
}
