/**
 * health/probes: the probe types (tcp, http, https), one descriptor each beside its probe
 * function, in one table (probe-types.ts), and the dispatch by a check's type.
 */
import type { ProbeResult, ProbeTarget } from './probe.js';
import { probeTypeNamed } from './probe-types.js';

export type { ProbeFn, ProbeResult, ProbeTarget } from './probe.js';
export type { CheckSettingKey, ProbeType } from './probe-type.js';
export { CHECK_SETTING_KEYS, PROBE_TYPES, probeTypeNamed, probeTypeOf, type ProbeTypeName } from './probe-types.js';
export { httpProbe, MAX_BODY_BYTES } from './http-probe.js';
export { tcpProbe } from './tcp-probe.js';

/** Runs the probe of `target.check.type`; never rejects. */
export function runProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  return probeTypeNamed(target.check.type).probe(target, signal);
}
