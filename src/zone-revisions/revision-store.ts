/**
 * Revisions in the engine: one key, `head`, of the JetStream key–value bucket `meridian-zones`.
 * Each value is a whole revision (every zone file, gzipped JSON), so one put publishes it
 * atomically: no instance can ever see part of a set. The bucket keeps the last 64 values of the
 * key (its history), which are `zones history` and what `zones rollback` can bring back. A
 * revision number is the one before plus one, claimed with a compare-and-set on the key's
 * sequence, so two pushes at once never publish the same number (the second is planned again on
 * top of the first).
 */
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeRevision, encodeRevision, type ZoneRevision } from './revision.js';

export const ZONES_BUCKET = 'meridian-zones';
export const HEAD_KEY = 'head';
/** JetStream's most values kept per key: the revisions `zones history` and `zones rollback` reach. */
export const KEPT_REVISIONS = 64;
const PUBLISH_ATTEMPTS = 5;

export class RevisionTooLargeError extends Error {}

/** The copies a new bucket gets when the fleet names `servers` engine URLs. */
export function replicasFor(servers: number): number {
  return Math.max(1, Math.min(3, servers));
}

/** A revision read from the engine, with the bucket's sequence of its value (for compare-and-set). */
export interface StoredRevision {
  revision: ZoneRevision;
  sequence: number;
}

export class RevisionStore {
  private constructor(
    private readonly kv: KV,
    private readonly maxPayload: number,
  ) {}

  /**
   * Opens the bucket, creating it on first use with `replicas` copies (as the fleet's own buckets:
   * one per engine URL given, at most 3, which survives the loss of one server of a cluster); an
   * existing bucket keeps the configuration it was made with.
   */
  static async open(connection: NatsConnection, { replicas = 1 }: { replicas?: number } = {}): Promise<RevisionStore> {
    const kv = await new Kvm(connection).create(ZONES_BUCKET, { history: KEPT_REVISIONS, replicas });
    return new RevisionStore(kv, connection.info?.max_payload ?? 1024 * 1024);
  }

  /** The newest revision, or null before the first push. Throws on a damaged one. */
  async head(): Promise<StoredRevision | null> {
    const entry = await this.kv.get(HEAD_KEY);
    if (entry === null || entry.operation !== 'PUT') return null;
    return { revision: decodeRevision(entry.value), sequence: entry.revision };
  }

  /**
   * Publishes `plan(previous)` as the newest revision. When another push lands in between, plans
   * again on top of it. Returns the revision published, or `null` from `plan` to publish nothing.
   */
  async publish(plan: (previous: ZoneRevision | null) => ZoneRevision | null): Promise<ZoneRevision | null> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.head();
      const next = plan(current?.revision ?? null);
      if (next === null) return null;
      const bytes = encodeRevision(next);
      if (bytes.length > this.maxPayload - 1024) {
        throw new RevisionTooLargeError(
          `revision is ${bytes.length} bytes compressed; the engine takes at most ${this.maxPayload} (max_payload in the nats-server configuration)`,
        );
      }
      try {
        if (current === null) await this.kv.create(HEAD_KEY, bytes);
        else await this.kv.update(HEAD_KEY, bytes, current.sequence);
        return next;
      } catch (error) {
        // Another push claimed the sequence first: plan again on top of it.
        if (attempt >= PUBLISH_ATTEMPTS || !isSequenceConflict(error)) throw error;
      }
    }
  }

  /** Every revision the engine keeps, oldest first; a damaged one is left out. */
  async history(): Promise<ZoneRevision[]> {
    const revisions: ZoneRevision[] = [];
    const entries = await this.kv.history({ key: HEAD_KEY });
    for await (const entry of entries) {
      if (entry.operation !== 'PUT') continue;
      try {
        revisions.push(decodeRevision(entry.value));
      } catch {
        // Not ours to judge here: history lists what can be read.
      }
    }
    return revisions;
  }

  /**
   * Calls `onRevision` with the newest revision now and with every one published after, until the
   * returned stop is called or the watch ends (the connection closed); `onDamaged` hears a value
   * that is not a readable revision.
   */
  async watch(onRevision: (revision: ZoneRevision) => void, onDamaged: (reason: string) => void): Promise<{ stop(): void; ended: Promise<void> }> {
    const iterator = await this.kv.watch({ key: HEAD_KEY });
    const ended = (async () => {
      for await (const entry of iterator) {
        if (entry.operation !== 'PUT') continue;
        try {
          onRevision(decodeRevision(entry.value));
        } catch (error) {
          onDamaged(error instanceof Error ? error.message : String(error));
        }
      }
    })();
    return { stop: () => iterator.stop(), ended };
  }
}

function isSequenceConflict(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /wrong last sequence|key exists/i.test(text);
}
