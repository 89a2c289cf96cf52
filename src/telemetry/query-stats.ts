/**
 * Per-query counters as flat number arrays: the query path only increments a slot, and the
 * labelled Prometheus series are built from these at scrape time (a labelled prom-client
 * inc() costs about 0.5 µs, more than a cached answer).
 */
import { GEO_RULES } from '../geo-rules/index.js';
import { RECORD_TYPES } from '../records/index.js';
import { RRType } from '../wire/index.js';

/** Query types asked often enough to count on their own though no zone serves them (DS and PTR are served types now). */
const UNSERVED_COUNTED_TYPES = ['ANY'] as const;
const SERVED_TYPES = [...RECORD_TYPES].sort((a, b) => a.code - b.code);
/** The `type` label of each counter slot: every served type, by code, then the others. */
export const COUNTED_TYPES: readonly string[] = [...SERVED_TYPES.map((type) => type.name), ...UNSERVED_COUNTED_TYPES, 'other'];
const TYPE_CODES: Record<string, number> = {
  ...Object.fromEntries(SERVED_TYPES.map((type) => [type.name, type.code])),
  ...Object.fromEntries(UNSERVED_COUNTED_TYPES.map((name) => [name, RRType[name]])),
};
const OTHER_SLOT = COUNTED_TYPES.length - 1;
const typeSlot = new Uint8Array(65536).fill(OTHER_SLOT);
COUNTED_TYPES.forEach((name, slot) => {
  const code = TYPE_CODES[name];
  if (code !== undefined) typeSlot[code] = slot;
});

export const RCODE_SLOTS = 24;
export const OUTCOMES = ['primary', 'failover', 'fail-open', 'fail-closed', 'no-members'] as const;
/** The `rule` label of routed answers: every geo rule kind, then the two fixed-list kinds. */
export const RULES: readonly string[] = [...GEO_RULES.map((rule) => rule.key), 'pool', 'failover'];
const outcomeSlot = new Map<string, number>(OUTCOMES.map((name, i) => [name, i]));
const ruleSlot = new Map<string, number>(RULES.map((name, i) => [name, i]));

/** The zone label for queries outside every zone (REFUSED) or never decoded (FORMERR). */
export const NO_ZONE = '';

export class QueryStats {
  /** zone → counts indexed [typeSlot * RCODE_SLOTS + rcode]. */
  readonly byZone = new Map<string, Float64Array>();
  /** Routed answers indexed [outcome * RULES.length + rule]. */
  readonly routed = new Float64Array(OUTCOMES.length * RULES.length);

  /** Counts one response. */
  count(zone: string, type: number, rcode: number): void {
    let counts = this.byZone.get(zone);
    if (counts === undefined) {
      counts = new Float64Array(COUNTED_TYPES.length * RCODE_SLOTS);
      this.byZone.set(zone, counts);
    }
    counts[typeSlot[type & 0xffff]! * RCODE_SLOTS + (rcode < RCODE_SLOTS ? rcode : 2)]!++;
  }

  /** Counts one routed answer by its decision. */
  countRouted(outcome: string, rule: string): void {
    const o = outcomeSlot.get(outcome);
    const r = ruleSlot.get(rule);
    if (o !== undefined && r !== undefined) this.routed[o * RULES.length + r]!++;
  }
}

/** Query-path counters as plain data, to cross a process boundary (cluster workers → primary). */
export interface CounterSnapshot {
  byZone: [string, number[]][];
  routed: number[];
  transport: Record<string, number>;
}

/** Copies the counters into a message-safe snapshot. */
export function snapshotCounters(stats: QueryStats, transport: Record<string, number>): CounterSnapshot {
  return { byZone: [...stats.byZone].map(([zone, counts]) => [zone, Array.from(counts)]), routed: Array.from(stats.routed), transport: { ...transport } };
}

/** Replaces `into` with the sum of the snapshots. */
export function sumCounters(into: QueryStats, snapshots: readonly CounterSnapshot[]): Record<string, number> {
  into.byZone.clear();
  into.routed.fill(0);
  const transport: Record<string, number> = {};
  for (const snapshot of snapshots) {
    for (const [zone, counts] of snapshot.byZone) {
      let target = into.byZone.get(zone);
      if (target === undefined) {
        target = new Float64Array(counts.length);
        into.byZone.set(zone, target);
      }
      for (let i = 0; i < counts.length; i++) target[i]! += counts[i]!;
    }
    for (let i = 0; i < snapshot.routed.length; i++) into.routed[i]! += snapshot.routed[i]!;
    for (const [key, value] of Object.entries(snapshot.transport)) transport[key] = (transport[key] ?? 0) + value;
  }
  return transport;
}
