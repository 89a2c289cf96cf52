/**
 * health/probes/probe: the contract every probe function meets.
 * A probe never rejects, enforces its own timeout, and leaves no socket open behind it.
 */
import type { CheckSpec } from '../check-spec.js';

/** Outcome of one probe; `reason` says why it failed, in log vocabulary ("HTTP 503", "timeout after 2000 ms"). */
export type ProbeResult = { ok: true; latencyMs: number } | { ok: false; latencyMs: number; reason: string };

/** What a probe is aimed at: the probe address and the check to run against it. */
export interface ProbeTarget {
  readonly address: string;
  readonly check: CheckSpec;
  /** Local address the probe's connection is bound to (--probe-source), of the target's family; none: the kernel's choice. */
  readonly source?: string;
}

/** A probe: resolves (never rejects) within the check's timeout, or soon after `signal` aborts. */
export type ProbeFn = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

/** `address:port` with IPv6 in brackets, for URLs, Host headers and probe keys. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Milliseconds since `startNs` (a process.hrtime.bigint() reading), rounded to 0.1 ms. */
export function elapsedMs(startNs: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startNs) / 1e5) / 10;
}

/** Log reason for a socket-level error: "connect ECONNREFUSED", "tls DEPTH_ZERO_SELF_SIGNED_CERT". */
export function errorReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') {
    // OpenSSL verification codes are upper-case words without the E prefix of errno names.
    const tls = code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME/.test(code);
    return `${tls ? 'tls' : 'connect'} ${code}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `error ${message}`;
}
