/**
 * health/probes/probe-types: the one table of probe types. Adding one is a file in probes/ and a
 * line here; the zone format (`type:` and the keys a check may have), probe keys, the scheduler
 * and `explain` read this table.
 */
import { http, https } from './http-probe.js';
import type { CheckSettingKey, ProbeType } from './probe-type.js';
import { tcp } from './tcp-probe.js';

export const PROBE_TYPES = [tcp, http, https] as const;

export type ProbeTypeName = (typeof PROBE_TYPES)[number]['name'];

const byName = new Map<string, ProbeType>(PROBE_TYPES.map((type) => [type.name, type]));

export function probeTypeNamed(name: ProbeTypeName): ProbeType {
  return byName.get(name)!;
}

/** The probe type called `name` in a zone file, or undefined. */
export function probeTypeOf(name: unknown): ProbeType | undefined {
  return typeof name === 'string' ? byName.get(name) : undefined;
}

/** Every setting some probe type reads, in table order. */
export const CHECK_SETTING_KEYS: readonly CheckSettingKey[] = [...new Set(PROBE_TYPES.flatMap((type) => type.keys))];
