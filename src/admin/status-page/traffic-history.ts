/**
 * admin/status-page/traffic-history: the server's own query counters (meridian_dns_queries_total,
 * summed over every process at scrape time) read every two seconds into a ring of the last ten
 * minutes, by rcode, so the status page can draw queries per second as soon as it is opened.
 * Runs only while the admin endpoint does; reads counters, never the query path.
 */
import type { Registry } from 'prom-client';

/** The rcodes the chart shows by name; the rest are summed as `other`. */
export const CHART_RCODES = ['NOERROR', 'NXDOMAIN', 'REFUSED', 'SERVFAIL'] as const;

/** Cumulative query counts at one moment, by rcode (CHART_RCODES and `other`). */
export interface TrafficSample {
  readonly at: string;
  readonly rcodes: Readonly<Record<string, number>>;
}

export interface TrafficSnapshot {
  readonly sampleMs: number;
  readonly capacity: number;
  /** Oldest first. */
  readonly samples: readonly TrafficSample[];
}

/** The query counters summed by chart rcode, as /metrics would show them now. */
export async function queriesByRcode(registry: Registry, beforeScrape?: () => Promise<void>): Promise<Record<string, number>> {
  await beforeScrape?.();
  const totals: Record<string, number> = { other: 0 };
  for (const rcode of CHART_RCODES) totals[rcode] = 0;
  const metric = registry.getSingleMetric('meridian_dns_queries_total');
  if (metric === undefined) return totals;
  for (const { labels, value } of (await metric.get()).values) {
    const rcode = String(labels.rcode ?? '');
    const slot = (CHART_RCODES as readonly string[]).includes(rcode) ? rcode : 'other';
    totals[slot] = (totals[slot] ?? 0) + value;
  }
  return totals;
}

/** A ring of samples taken every `sampleMs` by `read`, from start() until stop(). */
export class TrafficHistory {
  private readonly samples: TrafficSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private reading = false;

  constructor(
    private readonly read: () => Promise<Record<string, number>>,
    readonly sampleMs = 2000,
    readonly capacity = 300,
  ) {}

  start(): void {
    if (this.timer !== null) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.sampleMs);
    // The history alone must not keep a stopping process alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  snapshot(): TrafficSnapshot {
    return { sampleMs: this.sampleMs, capacity: this.capacity, samples: [...this.samples] };
  }

  private async sample(): Promise<void> {
    // A slow read (cluster workers asked over IPC) is not overtaken by the next one.
    if (this.reading) return;
    this.reading = true;
    try {
      const rcodes = await this.read();
      this.samples.push({ at: new Date().toISOString(), rcodes });
      if (this.samples.length > this.capacity) this.samples.shift();
    } catch {
      // A failed read leaves a gap in the chart; the next sample fills in.
    } finally {
      this.reading = false;
    }
  }
}
