/**
 * health/check-spec: the parsed form of a zone's `checks:` entry, the canonical
 * member-address form, and the probe key that deduplicates (address, check) pairs.
 */
import { isIP } from 'node:net';
import { canonicalAddress as zoneCanonicalAddress } from '../wire/index.js';
import { probeTypeNamed, type ProbeTypeName } from './probes/probe-types.js';

export { hostPort } from './probes/probe.js';

/** One health check, as the zone layer hands it over (durations already in milliseconds). */
export interface CheckSpec {
  /** The probe type (health/probes/probe-types.ts). */
  readonly type: ProbeTypeName;
  readonly port: number;
  /** Request path for http/https (ignored for tcp); starts with '/'. */
  readonly path: string;
  /** Host header (and TLS SNI when it is a name); defaults to the probed address. */
  readonly host?: string;
  /** Accepted HTTP status codes (ignored for tcp). */
  readonly expect: readonly number[];
  /** A substring that must appear in the first 64 KiB of the response body. */
  readonly body?: string;
  /** Verify the TLS certificate chain and name; false accepts self-signed certificates. */
  readonly verify: boolean;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive successes that bring a down target up. */
  readonly rise: number;
  /** Consecutive failures that take an up target down. */
  readonly fall: number;
  /** The zone's name for the check (e.g. `web`): used in logs and counters, not in the probe key. */
  readonly name?: string;
  /**
   * In a fleet, how many instances' fresh views must say up for the member to be up (default
   * majority); ignored without a fleet. Not part of the probe key: it decides, it does not probe.
   */
  readonly quorum?: Quorum;
}

/** `any`: one view up is enough; `majority`: more than half; `all`: every fresh view; N: at least N. */
export type Quorum = 'any' | 'majority' | 'all' | number;

/** The text of a quorum, as zone files write it. */
export function quorumText(quorum: Quorum | undefined): string {
  return String(quorum ?? 'majority');
}

/**
 * Canonical text of an IP address as an operator may type it (spaces or brackets around it), or null
 * when the text is not an IP address. Overrides and probe keys use this form, which must equal the
 * zone layer's, so it is the zone layer's printer (wire's canonicalAddress): members are looked up by
 * it. So a v4-mapped address is `::ffff:c000:201` whichever way it was written.
 */
export function canonicalAddress(address: string): string | null {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const family = isIP(a);
  if (family === 0) return null;
  // Scoped addresses (fe80::1%eth0) have no canonical form in the zone layer; keep them as written.
  return a.includes('%') ? a.toLowerCase() : zoneCanonicalAddress(a, family as 4 | 6);
}

/** Short human label of a check for logs and counters: its name, else e.g. `http:8080`. */
export function checkLabel(check: CheckSpec): string {
  return check.name ?? `${check.type}:${check.port}`;
}

/**
 * Canonical identity of probing `address` with `check`: the same address and the same check
 * content (whatever its name) give the same key, so the pair is probed once however many pools
 * or zones use it. Example: `http://127.0.1.1:8080/healthz expect=200 verify=1 every=5000 timeout=2000 rise=2 fall=3`.
 */
export function probeKeyOf(address: string, check: CheckSpec): string {
  const addr = canonicalAddress(address) ?? address;
  const timing = `every=${check.intervalMs} timeout=${check.timeoutMs} rise=${check.rise} fall=${check.fall}`;
  return `${probeTypeNamed(check.type).probeKey(addr, check)} ${timing}`;
}
