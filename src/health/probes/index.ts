/**
 * health/probes: the probe implementations and the dispatcher by check type.
 */
import { httpProbe } from './http-probe.js';
import type { ProbeResult, ProbeTarget } from './probe.js';
import { tcpProbe } from './tcp-probe.js';

export type { ProbeFn, ProbeResult, ProbeTarget } from './probe.js';
export { httpProbe, MAX_BODY_BYTES } from './http-probe.js';
export { tcpProbe } from './tcp-probe.js';

/** Runs the probe matching `target.check.type`; never rejects. */
export function runProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  return target.check.type === 'tcp' ? tcpProbe(target, signal) : httpProbe(target, signal);
}
