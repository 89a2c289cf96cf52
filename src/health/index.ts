/**
 * health: member health for Meridian.
 *
 * Owns: check specs and probe keys (one probe per distinct (address, check) pair), the tcp/http/https
 * probes, their schedule (probe-scheduler.ts) on a node-cron tick (tick-source.ts), the rise/fall state machine with versions,
 * listeners, state-change logs and counters (health-state.ts), operator overrides (up, down,
 * drained; kept in a JSON state file across reloads and restarts: override-store.ts), and the
 * HealthMonitor that wires them (health-monitor.ts).
 *
 * Must never: block or do I/O on the query path. The query path only calls `HealthView.status()`,
 * which is two Map lookups; everything else here (probes, file writes, logging) runs off that path,
 * and a probe that hangs is cut off at its own timeout without delaying any answer.
 */
export type { HealthView, MemberStatus } from './health-view.js';
export { ALL_MEMBERS_UP, overridesOnly } from './health-view.js';
export type { CheckSpec, Quorum } from './check-spec.js';
export { canonicalAddress, checkLabel, hostPort, probeKeyOf, quorumText } from './check-spec.js';
export type { MemberHealth, RiseFall } from './member-health.js';
export { INITIAL_MEMBER_HEALTH, nextMemberHealth } from './member-health.js';
export type { CheckSettingKey, ProbeFn, ProbeResult, ProbeTarget, ProbeType, ProbeTypeName } from './probes/index.js';
export { CHECK_SETTING_KEYS, httpProbe, MAX_BODY_BYTES, PROBE_TYPES, probeTypeNamed, probeTypeOf, runProbe, tcpProbe } from './probes/index.js';
export type { HealthChange, HealthSnapshot, MemberRef, OverrideState, OwnViewChange, ProbeCounts, TargetSnapshot, TargetSpec } from './health-state.js';
export type { MonitorClock, TickSource } from './tick-source.js';
export type { HealthCounters, HealthMonitorOptions } from './health-monitor.js';
export { HealthMonitor } from './health-monitor.js';
export { RecentChanges, type RecentChange } from './recent-changes.js';
export { ReplicaHealth, healthSyncOf, type HealthSync } from './replica-health.js';
