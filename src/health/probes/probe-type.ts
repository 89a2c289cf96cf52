/**
 * health/probes/probe-type: what a kind of health check must say about itself — its `type:`
 * name, the check keys it reads, what identifies its probe, the probe itself and how `explain`
 * names it. Each type is one object meeting this contract, beside its probe function.
 */
import type { CheckSpec } from '../check-spec.js';
import type { ProbeFn } from './probe.js';

/** Check keys a type may read besides type, port and the timing (interval, timeout, rise, fall). */
export type CheckSettingKey = 'path' | 'host' | 'expect' | 'body' | 'verify';

export interface ProbeType<Name extends string = string> {
  /** The value of `type:` in a zone file's check. */
  readonly name: Name;
  /** The settings it reads; a check of this type naming another one is an error in the zone file. */
  readonly keys: readonly CheckSettingKey[];
  /**
   * What identifies probing `address` (canonical) with this check, timing aside: it must include
   * every setting that changes the result, since checks with equal keys are probed once.
   */
  probeKey(address: string, check: CheckSpec): string;
  /** Never rejects, enforces the check's timeout, stops on abort, leaves no socket open. */
  readonly probe: ProbeFn;
  /** How `explain` names a member's probe (`http 192.0.2.1:80`). */
  describe(address: string, check: CheckSpec): string;
}

/** `TYPE ADDRESS:PORT`, how explain names most probes. */
export function describeTypeAddressPort(address: string, check: CheckSpec): string {
  return `${check.type} ${address}:${check.port}`;
}
