/**
 * Every Prometheus metric Meridian exports, defined in one place. Query-path numbers are plain
 * counters owned by their subsystems; they are turned into labelled series only when
 * /metrics is scraped, inside each metric's collect().
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CounterTotals } from './counter-totals.js';
import { COUNTED_TYPES, OUTCOMES, RCODE_SLOTS, RULES } from './query-stats.js';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** Query statistics and the plain counters by name (`udpReceived`, `droppedShort`, …). */
  counters: CounterTotals;
  probes: () => Readonly<Record<string, { ok: number; fail: number; timeout: number }>>;
  healthChanges: () => { up: number; down: number };
  healthScheduler: () => { missedTicks: number; overlapSkips: number; internalErrors: number };
  members: () => Iterable<{ zone: string; pool: string; member: string; up: boolean }>;
  zones: () => Iterable<{ zone: string; file: string; ok: boolean; serial: number | null }>;
  zoneReloads: () => { ok: number; failed: number };
  /** How UDP is answered: `batched` (the native module) or `dgram`; fixed for the server's life. */
  udpIo: string;
  /** With --zones-from-fleet: the revision served (null before one), the newest seen, refusals. */
  zoneRevision?: () => { served: number | null; newest: number | null; refusals: number };
  /** With --fleet: the connection state and the fleet's counters; null alone (no fleet metrics). */
  fleet?: () => FleetMetrics | null;
  /** With --keys: every zone served, signed or not (its counters are plain counters, `dnssec…`). */
  dnssec?: () => readonly DnssecZoneMetrics[];
}

/** What the DNSSEC gauges read of one zone (src/dnssec's DnssecKeeper.report()). */
export interface DnssecZoneMetrics {
  readonly zone: string;
  readonly signed: boolean;
  readonly keys: readonly { readonly signing: boolean }[];
  readonly signatureExpiration: number | null;
  readonly renewalDue: number | null;
  readonly renewalLag: number;
  readonly cached: { readonly static: number; readonly variant: number; readonly denial: number };
}

/** What the fleet metrics read (src/fleet's FleetMember and FleetConnection). */
export interface FleetMetrics {
  readonly connection: string;
  readonly connectionStates: readonly string[];
  readonly alone: boolean;
  readonly disagreements: number;
  readonly viewsPublished: number;
  readonly viewsReceived: number;
  readonly aloneTransitions: number;
}

/** Longest stretch of /metrics rendering between two turns of the event loop, which answers queries. */
const SCRAPE_SLICE_MS = 0.5;

/**
 * The registry's text exposition, byte for byte what `registry.metrics()` renders, but one metric
 * at a time with a turn of the event loop whenever SCRAPE_SLICE_MS has passed: prom-client renders
 * every metric in one go (its awaits are microtasks, which never let a datagram in), so a scrape
 * held answers up for as long as all the collect()s took.
 */
export async function metricsInSlices(registry: Registry): Promise<string> {
  const parts: string[] = [];
  let sliceStart = performance.now();
  for (const metric of registry.getMetricsAsArray()) {
    parts.push(await registry.getSingleMetricAsString(metric.name));
    if (performance.now() - sliceStart >= SCRAPE_SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return `${parts.join('\n\n')}\n`;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];
function rcodeLabel(code: number): string {
  return code === 16 ? 'BADVERS' : RCODE_NAMES[code] ?? `RCODE${code}`;
}

/**
 * The probe-duration histogram, made before the health monitor whose probes it times (the first
 * round of probes runs before the rest of the metrics have anything to read).
 */
export class ProbeDurations {
  readonly histogram = new Histogram({
    name: 'meridian_health_probe_duration_seconds',
    help: 'Duration of health probes, by check.',
    labelNames: ['check'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });

  observe(check: string, seconds: number): void {
    this.histogram.observe({ check }, seconds);
  }
}

/** The registry /metrics renders: every metric of one server. */
export function createMetrics(sources: MetricsSources, probeDurations: ProbeDurations): Registry {
  const registry = new Registry();
  // prom-client's names already start with process_ or nodejs_: the prefix adds only meridian_
  // (meridian_process_cpu_seconds_total, meridian_nodejs_eventloop_lag_seconds).
  collectDefaultMetrics({ register: registry, prefix: 'meridian_' });
  const queryStats = sources.counters.stats;

  new Counter({
    name: 'meridian_dns_queries_total',
    help: 'DNS responses sent, by zone ("" outside every zone), query type and rcode.',
    labelNames: ['zone', 'type', 'rcode'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [zone, counts] of queryStats.byZone) {
        for (let t = 0; t < COUNTED_TYPES.length; t++) {
          for (let r = 0; r < RCODE_SLOTS; r++) {
            const value = counts[t * RCODE_SLOTS + r]!;
            if (value > 0) this.inc({ zone, type: COUNTED_TYPES[t]!, rcode: rcodeLabel(r) }, value);
          }
        }
      }
    },
  });
  new Counter({
    name: 'meridian_dns_routed_answers_total',
    help: 'Answers of geo/failover/pool names, by routing outcome and the rule that chose the pool list.',
    labelNames: ['outcome', 'rule'],
    registers: [registry],
    collect() {
      this.reset();
      const routed = queryStats.routed;
      for (let o = 0; o < OUTCOMES.length; o++) {
        for (let r = 0; r < RULES.length; r++) {
          const value = routed[o * RULES.length + r]!;
          if (value > 0) this.inc({ outcome: OUTCOMES[o]!, rule: RULES[r]! }, value);
        }
      }
    },
  });
  /** A counter read from one plain counter by name. */
  const plainCounter = (name: string, help: string, key: string): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(sources.counters.transport()[key] ?? 0);
      },
    });
  };
  plainCounter('meridian_dns_udp_packets_total', 'UDP datagrams received.', 'udpReceived');
  plainCounter('meridian_dns_tcp_messages_total', 'DNS messages received over TCP.', 'tcpReceived');
  plainCounter('meridian_dns_tcp_connections_total', 'TCP connections accepted.', 'tcpConnections');
  plainCounter('meridian_dns_tcp_connections_rejected_total', 'TCP connections refused at the connection cap.', 'tcpConnectionsRejected');
  plainCounter('meridian_dns_truncated_total', 'UDP answers sent truncated (TC=1).', 'truncated');
  plainCounter('meridian_dns_ecs_queries_total', 'Queries carrying EDNS Client Subnet.', 'ecsQueries');
  plainCounter('meridian_dns_internal_errors_total', 'Queries answered SERVFAIL because the answer path threw (logged).', 'servfailFromErrors');
  plainCounter('meridian_dns_handler_errors_total', 'Requests left unanswered because the packet handler threw (logged).', 'handlerErrors');
  plainCounter('meridian_dns_send_errors_total', 'DNS responses a socket failed to send (UDP: one send in 64 is checked), and UDP socket errors (logged).', 'sendErrors');
  plainCounter('meridian_dns_tcp_listener_errors_total', 'Errors of the TCP listening sockets, such as failed accepts (logged).', 'tcpListenerErrors');
  plainCounter('meridian_geo_lookup_errors_total', 'Geo lookups that failed inside the database reader (a corrupt data section): the client counts as unlocated.', 'geoLookupErrors');
  plainCounter('meridian_zone_reload_errors_total', 'Zone reloads that failed as a whole (zones folder unreadable, parser thread lost), in any process; the zones loaded before keep serving (logged).', 'zoneReloadErrors');
  plainCounter('meridian_dns_rrl_limited_total', 'UDP responses over the rate limit (--rrl): slipped, dropped or answered BADCOOKIE.', 'rrlLimited');
  plainCounter('meridian_dns_rrl_slipped_total', 'UDP responses over the rate limit sent as a bare TC=1 reply (every --rrl-slip-th).', 'rrlSlipped');
  plainCounter('meridian_dns_rrl_dropped_total', 'UDP responses over the rate limit not sent.', 'rrlDropped');
  plainCounter('meridian_dns_rrl_badcookie_total', 'UDP responses over the rate limit to a client that sent a client cookie: answered BADCOOKIE with a fresh server cookie.', 'rrlBadCookie');
  plainCounter('meridian_dns_rrl_evicted_total', 'Live rate-limit tokens evicted from the full table to make room for new ones.', 'rrlEvicted');
  new Gauge({
    name: 'meridian_dns_rrl_tokens',
    help: 'Rate-limit tokens (client prefix, response class, name) used within the window, summed over processes.',
    registers: [registry],
    collect() {
      this.set(sources.counters.transport().rrlTokensInUse ?? 0);
    },
  });
  new Gauge({
    name: 'meridian_dns_udp_io_info',
    help: 'Always 1; its io label says how UDP is read and answered: batched (recvmmsg/sendmmsg, native/batched-udp) or dgram (node:dgram).',
    labelNames: ['io'],
    registers: [registry],
  }).set({ io: sources.udpIo }, 1);
  new Counter({
    name: 'meridian_dns_dropped_packets_total',
    help: 'Packets dropped unanswered, by reason (short: under 12 bytes; response: QR=1; too-long: a UDP datagram over the 4 KiB a batched socket reads).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      const t = sources.counters.transport();
      this.inc({ reason: 'short' }, t.droppedShort ?? 0);
      this.inc({ reason: 'response' }, t.droppedResponses ?? 0);
      this.inc({ reason: 'too-long' }, t.udpTooLong ?? 0);
    },
  });
  new Counter({
    name: 'meridian_dns_tcp_limits_total',
    help: 'TCP limits that acted, by limit: per-client (a connection refused, its address holding --tcp-max-per-client), message-timeout (closed: a message not whole within --tcp-message-timeout of its first byte), idle-timeout (closed after the idle timeout), query-limit (closed, answers sent first, after the queries allowed per connection), read-paused (reading stopped while unsent answers exceeded the output bound).',
    labelNames: ['limit'],
    registers: [registry],
    collect() {
      this.reset();
      const t = sources.counters.transport();
      this.inc({ limit: 'per-client' }, t.tcpClientLimitRejections ?? 0);
      this.inc({ limit: 'message-timeout' }, t.tcpMessageTimeouts ?? 0);
      this.inc({ limit: 'idle-timeout' }, t.tcpIdleTimeouts ?? 0);
      this.inc({ limit: 'query-limit' }, t.tcpQueryLimitCloses ?? 0);
      this.inc({ limit: 'read-paused' }, t.tcpReadPauses ?? 0);
    },
  });
  new Counter({
    name: 'meridian_dns_cookies_total',
    help: 'Queries by their DNS cookie (RFC 7873): none, client-only (a client cookie, no server cookie), valid (a server cookie accepted), invalid (a server cookie refused: wrong, expired or of another secret).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const t = sources.counters.transport();
      this.inc({ state: 'none' }, t.cookiesNone ?? 0);
      this.inc({ state: 'client-only' }, t.cookiesClientOnly ?? 0);
      this.inc({ state: 'valid' }, t.cookiesValid ?? 0);
      this.inc({ state: 'invalid' }, t.cookiesInvalid ?? 0);
    },
  });
  new Counter({
    name: 'meridian_health_probes_total',
    help: 'Finished health probes, by check and result (ok, fail, timeout).',
    labelNames: ['check', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [check, counts] of Object.entries(sources.probes())) {
        this.inc({ check, result: 'ok' }, counts.ok);
        this.inc({ check, result: 'fail' }, counts.fail);
        this.inc({ check, result: 'timeout' }, counts.timeout);
      }
    },
  });
  registry.registerMetric(probeDurations.histogram);
  new Counter({
    name: 'meridian_health_state_changes_total',
    help: 'Member state changes, by new state.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const changes = sources.healthChanges();
      this.inc({ state: 'up' }, changes.up);
      this.inc({ state: 'down' }, changes.down);
    },
  });
  const schedulerCounter = (name: string, help: string, read: (c: ReturnType<MetricsSources['healthScheduler']>) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(sources.healthScheduler()));
      },
    });
  };
  schedulerCounter('meridian_health_missed_ticks_total', 'Health scheduler ticks that did not come (event loop blocked, or the scheduler restarted): probes due then ran late.', (c) => c.missedTicks);
  schedulerCounter('meridian_health_overlapping_turns_total', "Probe turns that came due while the target's previous probe was still running (run when it ended).", (c) => c.overlapSkips);
  schedulerCounter('meridian_health_scheduler_errors_total', 'Exceptions caught in a health scheduler tick, timer or probe completion (each logged).', (c) => c.internalErrors);
  new Gauge({
    name: 'meridian_health_member_up',
    help: '1 when a pool member counts as up (probe result or override), 0 when down or drained.',
    labelNames: ['zone', 'pool', 'member'],
    registers: [registry],
    collect() {
      this.reset();
      for (const m of sources.members()) this.set({ zone: m.zone, pool: m.pool, member: m.member }, m.up ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meridian_zone_load_ok',
    help: '1 when the zone file last loaded cleanly, 0 while its last edit is rejected (the last good version keeps serving).',
    labelNames: ['zone', 'file'],
    registers: [registry],
    collect() {
      this.reset();
      for (const z of sources.zones()) this.set({ zone: z.zone, file: z.file }, z.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meridian_zone_serial',
    help: 'SOA serial being served, by zone.',
    labelNames: ['zone'],
    registers: [registry],
    collect() {
      this.reset();
      for (const z of sources.zones()) if (z.serial !== null && z.zone !== '') this.set({ zone: z.zone }, z.serial);
    },
  });
  new Counter({
    name: 'meridian_zone_reloads_total',
    help: 'Zone file loads after start-up, by result (ok, failed).',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      const r = sources.zoneReloads();
      this.inc({ result: 'ok' }, r.ok);
      this.inc({ result: 'failed' }, r.failed);
    },
  });
  const revision = sources.zoneRevision;
  if (revision !== undefined) {
    new Gauge({
      name: 'meridian_zone_revision',
      help: 'The fleet zone revision being served (--zones-from-fleet); absent before the first.',
      registers: [registry],
      collect() {
        this.reset();
        const served = revision().served;
        if (served !== null) this.set(served);
      },
    });
    new Gauge({
      name: 'meridian_zone_revision_newest',
      help: 'The newest fleet zone revision this instance has seen in the engine; above meridian_zone_revision while one is loading or was refused.',
      registers: [registry],
      collect() {
        this.reset();
        const newest = revision().newest;
        if (newest !== null) this.set(newest);
      },
    });
    new Counter({
      name: 'meridian_zone_revisions_refused_total',
      help: 'Fleet zone revisions this instance refused (a file did not load): the last good revision kept serving (logged, and in /status).',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(revision().refusals);
      },
    });
  }
  if (sources.fleet !== undefined) addFleetMetrics(registry, sources.fleet);
  // Registered without --keys too (no samples then), so that a dashboard's queries always name real families.
  addDnssecMetrics(registry, sources.dnssec ?? null, () => sources.counters.transport());
  return registry;
}

function addDnssecMetrics(registry: Registry, read: (() => readonly DnssecZoneMetrics[]) | null, counters: () => Readonly<Record<string, number>>): void {
  const zones = read ?? ((): readonly DnssecZoneMetrics[] => []);
  /** A counter with one label, each value read from a plain counter (summed over a cluster's processes). */
  const labelled = (name: string, help: string, label: string, keys: Record<string, string>): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        if (read === null) return;
        const t = counters();
        for (const [value, key] of Object.entries(keys)) this.inc({ [label]: value }, t[key] ?? 0);
      },
    });
  };
  labelled('meridian_dnssec_signatures_total', 'RRSIGs made, by reason: static (RRsets, apex keys, referral proofs), variant (a member set or wildcard answer), denial (a compact-denial NSEC per name), renewal (signed again by a signer replacing another: renewal or key change); summed over processes.', 'reason', {
    static: 'dnssecSignaturesStatic',
    variant: 'dnssecSignaturesVariant',
    denial: 'dnssecSignaturesDenial',
    renewal: 'dnssecSignaturesRenewal',
  });
  labelled('meridian_dnssec_cache_lookups_total', 'DO=1 answers by whether their signatures were held (hit: a buffer copy) or signed on the query path first (miss); summed over processes.', 'result', {
    hit: 'dnssecCacheHits',
    miss: 'dnssecCacheMisses',
  });
  labelled('meridian_dnssec_cache_evictions_total', 'Signed answers dropped from a full cache, least recently used first: denial (denials and wildcard answers, 10,000 per zone), variant (member sets, 4,096 per zone); summed over processes.', 'cache', {
    denial: 'dnssecDenialEvictions',
    variant: 'dnssecVariantEvictions',
  });
  new Counter({
    name: 'meridian_dnssec_variants_signed_ahead_total',
    help: 'Member sets signed ahead, before any answer needed them, for the health state of the moment (zone loaded, keys changed, health changed); every process signs its own; summed over processes.',
    registers: [registry],
    collect() {
      this.reset();
      if (read !== null) this.inc(counters().dnssecVariantsSignedAhead ?? 0);
    },
  });
  const perZone = (name: string, help: string, value: (zone: DnssecZoneMetrics) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: ['zone'],
      registers: [registry],
      collect() {
        this.reset();
        for (const zone of zones()) {
          const v = value(zone);
          if (v !== null) this.set({ zone: zone.zone }, v);
        }
      },
    });
  };
  perZone('meridian_dnssec_zone_signed', '1 when the zone is signed (an active key in --keys), 0 when it is served unsigned.', (z) => (z.signed ? 1 : 0));
  perZone('meridian_dnssec_keys_signing', 'Keys signing the zone now (active per their timing metadata).', (z) => z.keys.filter((key) => key.signing).length);
  perZone('meridian_dnssec_signature_expiration_timestamp_seconds', 'When the signatures served now expire (RRSIG expiration), seconds since the epoch.', (z) => z.signatureExpiration);
  perZone('meridian_dnssec_renewal_due_timestamp_seconds', 'When the signatures are signed again (half their lifetime), seconds since the epoch.', (z) => z.renewalDue);
  perZone('meridian_dnssec_renewal_lag_seconds', 'Seconds the renewal is overdue while the old signatures are still served (0 when not due): above a few seconds, renewal is stuck.', (z) => (z.signed ? z.renewalLag : null));
  new Gauge({
    name: 'meridian_dnssec_cache_entries',
    help: "Signed answers held by the zone's signer in the process serving /metrics, by cache: static (RRsets, apex, referrals), variant (member sets), denial (denials and wildcard answers).",
    labelNames: ['zone', 'cache'],
    registers: [registry],
    collect() {
      this.reset();
      for (const zone of zones()) {
        if (!zone.signed) continue;
        for (const [cache, n] of Object.entries(zone.cached)) this.set({ zone: zone.zone, cache }, n);
      }
    },
  });
}

function addFleetMetrics(registry: Registry, read: () => FleetMetrics | null): void {
  const gauge = (name: string, help: string, value: (f: FleetMetrics) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const fleet = read();
        if (fleet !== null) this.set(value(fleet));
      },
    });
  };
  const counter = (name: string, help: string, value: (f: FleetMetrics) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const fleet = read();
        this.reset();
        if (fleet !== null) this.inc(value(fleet));
      },
    });
  };
  new Gauge({
    name: 'meridian_fleet_connection_state',
    help: '1 for the current state of the connection to the fleet engine (connecting, connected, disconnected, closed, refused), 0 for the others.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      const fleet = read();
      if (fleet === null) return;
      for (const state of fleet.connectionStates) this.set({ state }, state === fleet.connection ? 1 : 0);
    },
  });
  gauge('meridian_fleet_deciding_alone', '1 while this instance decides health alone (engine unreachable, or no fresh view but its own), 0 while it decides with the fleet.', (f) => (f.alone ? 1 : 0));
  gauge('meridian_fleet_members_in_disagreement', 'Probe targets whose fresh views from the instances disagree (some up, some down).', (f) => f.disagreements);
  counter('meridian_fleet_views_published_total', "This instance's views of probe targets published to the fleet (changes and refreshes).", (f) => f.viewsPublished);
  counter('meridian_fleet_views_received_total', "Other instances' views received from the fleet.", (f) => f.viewsReceived);
  counter('meridian_fleet_decided_alone_total', 'Times this instance went from deciding with the fleet to deciding alone.', (f) => f.aloneTransitions);
}
