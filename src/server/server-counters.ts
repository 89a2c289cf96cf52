/**
 * One process's plain counters by name, as /metrics sums them over a cluster: the listeners',
 * the packet handler's, and those of the parts beside the query path (geo, reloads, rate
 * limiting, cookies, DNSSEC signing). A new field of `QueryCounters` or `ListenerCounters` travels by itself.
 */
import type { ServerCookies } from '../cookies/index.js';
import type { DnssecKeeper } from '../dnssec/index.js';
import type { GeoLocatorHandle } from '../geo/index.js';
import { rateLimitCounters, type ResponseRateLimiter } from '../rate-limit/index.js';
import { CounterTotals, type PeerCounters } from '../telemetry/index.js';
import type { ListenerCounters } from '../wire/index.js';
import type { QueryCounters } from './handle-packet.js';

export interface CountedParts {
  query: QueryCounters;
  listener: ListenerCounters;
  geo: GeoLocatorHandle | null;
  reloadErrors: () => number;
  rateLimiter: ResponseRateLimiter | null;
  cookies: ServerCookies | null;
  dnssec: DnssecKeeper | null;
  /** Brings counts kept elsewhere into `listener` before it is read (the batched sockets' failures). */
  settleListener: () => void;
}

/** Every plain per-process counter by name: what a cluster worker's snapshot carries and /metrics sums. */
function plainCounters(parts: CountedParts): Record<string, number> {
  parts.settleListener();
  const { stats: _stats, ...query } = parts.query;
  return {
    ...parts.listener,
    ...query,
    geoLookupErrors: parts.geo?.lookupErrors ?? 0,
    zoneReloadErrors: parts.reloadErrors(),
    ...rateLimitCounters(parts.rateLimiter),
    ...parts.cookies?.counters,
    ...parts.dnssec?.counters,
  };
}

/** `peers`: a cluster primary's workers, summed in at scrape time. */
export function serverCounters(parts: CountedParts, peers: PeerCounters | null): CounterTotals {
  return new CounterTotals({ stats: parts.query.stats, transport: () => plainCounters(parts) }, peers);
}
