/**
 * What the fleet keeps in JetStream: three key-value buckets, their keys and their values. Shared by
 * the running instance (fleet-member.ts) and `meridian fleet status` (fleet-status.ts).
 *
 * - `meridian_instances`: `instance.NAME` → an instance's presence (heartbeat, version, zones);
 * - `meridian_views`: `view.NAME.HASH` → one instance's view of one (address, check), HASH naming
 *   the probe key (keys allow only `[-/_=.a-zA-Z0-9]`; the value carries the probe key itself);
 * - `meridian_overrides`: `override.ADDRESS` → a fleet-wide override (address with `.` → `_` and
 *   `:` → `-`; the value carries the address).
 */
import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { OverrideState } from '../health/index.js';

export const BUCKETS = { instances: 'meridian_instances', views: 'meridian_views', overrides: 'meridian_overrides' } as const;

export interface FleetBuckets {
  readonly instances: KV;
  readonly views: KV;
  readonly overrides: KV;
}

/** An instance's presence, refreshed every heartbeat. */
export interface PresenceValue {
  readonly instance: string;
  /** Random per process: tells a restarted instance from the one before it. */
  readonly session: string;
  readonly version: string;
  readonly startedAt: number;
  readonly seenAt: number;
  readonly heartbeatMs: number;
  readonly zones: readonly { readonly zone: string; readonly serial: number }[];
  /** The fleet zone revision served (--zones-from-fleet); null or absent when it reads files. */
  readonly zoneRevision?: number | null;
}

/** One instance's view of one (address, check). */
export interface ViewValue {
  readonly instance: string;
  readonly probeKey: string;
  readonly address: string;
  readonly check: string;
  readonly quorum: string;
  readonly status: 'up' | 'down';
  readonly reason: string | null;
  readonly at: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface OverrideValue {
  readonly address: string;
  readonly state: OverrideState;
  readonly at: number;
  readonly by: string;
}

/** A presence is live while its heartbeats keep coming (three missed and it is gone). */
export function presenceIsLive(value: PresenceValue, now: number): boolean {
  return now - value.seenAt < value.heartbeatMs * 3 + 1000;
}

export function viewKey(instance: string, probeKey: string): string {
  return `view.${instance}.${createHash('sha256').update(probeKey).digest('hex').slice(0, 24)}`;
}

export function instanceKey(instance: string): string {
  return `instance.${instance}`;
}

export function overrideKey(address: string): string {
  return `override.${address.replaceAll('.', '_').replaceAll(':', '-')}`;
}

const encoder = new TextEncoder();
export function encodeValue(value: object): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

/**
 * Opens the buckets, creating those missing. `replicas`: copies kept by a NATS cluster (3 survives
 * the loss of one server); an existing bucket keeps the configuration it was made with.
 */
export async function openBuckets(connection: NatsConnection, replicas: number): Promise<FleetBuckets> {
  const kvm = new Kvm(connection);
  const open = async (name: string, ttlMs: number): Promise<KV> => {
    try {
      return await kvm.create(name, { history: 1, replicas, ...(ttlMs > 0 ? { ttl: ttlMs } : {}) });
    } catch (error) {
      // Made before with another configuration (replicas, ttl): use it as it is.
      if (/already in use|exists/i.test(String(error))) return kvm.open(name);
      throw error;
    }
  };
  return {
    instances: await open(BUCKETS.instances, 24 * 3600_000),
    views: await open(BUCKETS.views, 3600_000),
    overrides: await open(BUCKETS.overrides, 0),
  };
}

/** Opens existing buckets without creating any (for a reader such as `fleet status`). */
export async function openExistingBuckets(connection: NatsConnection): Promise<FleetBuckets> {
  const kvm = new Kvm(connection);
  return {
    instances: await kvm.open(BUCKETS.instances),
    views: await kvm.open(BUCKETS.views),
    overrides: await kvm.open(BUCKETS.overrides),
  };
}

/**
 * Every live value under `filter` (deleted keys left out), parsed as JSON, one per key. The key
 * listing can name a key twice when it is written meanwhile (a heartbeat every second does).
 */
export async function readAll<T>(kv: KV, filter: string): Promise<T[]> {
  const keys = new Set<string>();
  for await (const key of await kv.keys(filter)) keys.add(key);
  const values: T[] = [];
  for (const key of keys) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT' || entry.length === 0) continue;
    try {
      values.push(entry.json<T>());
    } catch {
      // Not ours, or damaged: skipped.
    }
  }
  return values;
}
