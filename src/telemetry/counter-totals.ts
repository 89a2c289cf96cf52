/**
 * The query-path counters /metrics reports: this process's own, or with --workers the sum over
 * every process, gathered just before a scrape. A worker that dies or is replaced keeps counting:
 * its last reported totals are carried, so the sums never go down (Prometheus would read a drop
 * as a counter reset).
 */
import { QueryStats, snapshotCounters, sumCounters, type CounterSnapshot } from './query-stats.js';

/** One process's counters; `transport` is every plain counter by name. */
export interface OwnCounters {
  stats: QueryStats;
  transport: () => Readonly<Record<string, number>>;
}

/** The other processes of a cluster: their latest snapshots (see startClusterPrimary). */
export interface PeerCounters {
  counters(): Promise<readonly CounterSnapshot[]>;
}

export class CounterTotals {
  /** The summed query statistics (this process's own object when there are no peers). */
  readonly stats: QueryStats;
  private summedTransport: Readonly<Record<string, number>> = {};

  constructor(
    private readonly own: OwnCounters,
    private readonly peers: PeerCounters | null = null,
  ) {
    this.stats = peers ? new QueryStats() : own.stats;
  }

  /** This process's counters as plain data (what a cluster worker reports to the primary). */
  snapshot(): CounterSnapshot {
    return snapshotCounters(this.own.stats, this.own.transport());
  }

  /** Sums the peers' counters with this process's; nothing to do without peers. */
  async gather(): Promise<void> {
    if (!this.peers) return;
    this.summedTransport = sumCounters(this.stats, [this.snapshot(), ...(await this.peers.counters())]);
  }

  /** The plain counters by name, summed at the last gather (live without peers). */
  transport(): Readonly<Record<string, number>> {
    return this.peers ? this.summedTransport : this.own.transport();
  }
}

/**
 * A cluster primary's book of its workers' counters: the latest snapshot each worker reported
 * (used again when a worker is too slow to answer a scrape), and the totals of workers gone.
 */
export class WorkerCounterBook<Worker> {
  private readonly latest = new Map<Worker, CounterSnapshot>();
  private carried: CounterSnapshot | null = null;

  /** A worker's counters, as it reported them. */
  report(worker: Worker, snapshot: CounterSnapshot): void {
    this.latest.set(worker, snapshot);
  }

  /** A worker is gone: its last reported totals are carried from now on. */
  retire(worker: Worker): void {
    const last = this.latest.get(worker);
    if (last === undefined) return;
    this.latest.delete(worker);
    this.carried = this.carried === null ? last : addSnapshots([this.carried, last]);
  }

  /** What the workers, alive and gone, have counted. */
  snapshots(): CounterSnapshot[] {
    return this.carried === null ? [...this.latest.values()] : [this.carried, ...this.latest.values()];
  }
}

/** One snapshot holding the sum of several. */
function addSnapshots(snapshots: readonly CounterSnapshot[]): CounterSnapshot {
  const stats = new QueryStats();
  return snapshotCounters(stats, sumCounters(stats, snapshots));
}
