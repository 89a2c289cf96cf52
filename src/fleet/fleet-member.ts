/**
 * This instance as a member of the fleet. While the engine is reachable it
 * - claims its name (a presence key made with create(): a second live instance of the same name is refused)
 *   and keeps it alive with a heartbeat carrying its version and zones;
 * - publishes its own view of every probed (address, check) when it changes, and again every two
 *   intervals, and watches every instance's views;
 * - turns the fresh views of each target into the fleet's verdict (quorum.ts), which replaces the
 *   local verdict in the health state the query path reads (HealthMonitor.setVerdict);
 * - keeps the overrides in a bucket: a change made here is stored there and applied by every
 *   instance from its watch (the state file caching them for a start without the engine).
 * Without the engine, or with no fresh view but its own, it decides alone and says so once per
 * transition; when the engine is back it converges again.
 */
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { quorumText, type HealthMonitor, type OverrideState, type TargetSnapshot } from '../health/index.js';
import type { Logger } from '../telemetry/index.js';
import type { FleetConnection } from './connection.js';
import {
  encodeValue,
  instanceKey,
  openBuckets,
  overrideKey,
  presenceIsLive,
  readAll,
  viewKey,
  type FleetBuckets,
  type OverrideValue,
  type PresenceValue,
  type ViewValue,
} from './fleet-store.js';
import { decide, isFresh, type InstanceView } from './quorum.js';

export interface FleetMemberOptions {
  readonly connection: FleetConnection;
  readonly health: HealthMonitor;
  readonly logger: Logger;
  readonly version: string;
  /** The zones served and their serials, for the presence record. */
  readonly zones: () => readonly { zone: string; serial: number }[];
  /** The fleet zone revision served (--zones-from-fleet), for the presence record; null otherwise. */
  readonly zoneRevision?: () => number | null;
  readonly heartbeatMs?: number;
  /** How often views are aged and verdicts reviewed without news. */
  readonly reviewMs?: number;
  /** How long a start waits for an engine slow to answer before going on alone (one that refuses or is not there: not at all). */
  readonly startWaitMs?: number;
  /** Copies of each bucket in a NATS cluster. */
  readonly replicas?: number;
}

/** One instance's view of a target as /status, explain and metrics show it. */
export interface ViewReport {
  readonly instance: string;
  readonly status: 'up' | 'down';
  readonly at: string;
  readonly fresh: boolean;
  readonly reason: string | null;
}

export interface FleetReport {
  readonly instance: string;
  readonly connection: string;
  readonly servers: readonly string[];
  /** Null while deciding with the fleet; else why this instance decides alone. */
  readonly alone: string | null;
  readonly lastFailure: string | null;
  readonly instances: readonly { instance: string; version: string; seenAt: string; live: boolean; zones: readonly { zone: string; serial: number }[] }[];
  readonly targets: readonly {
    probeKey: string;
    address: string;
    check: string;
    quorum: string;
    verdict: 'up' | 'down' | null;
    status: 'up' | 'down';
    disagree: boolean;
    views: readonly ViewReport[];
  }[];
}

export interface FleetCounters {
  viewsPublished: number;
  viewsReceived: number;
  aloneTransitions: number;
  overridesReceived: number;
}

/** Thrown at start when another live instance holds this name. */
export class InstanceNameTaken extends Error {}

interface Session {
  readonly generation: number;
  readonly buckets: FleetBuckets;
  presenceRevision: number;
  /** Stops the watches (replaced when they go silent). */
  stops: (() => void)[];
  /** When each watch last delivered this instance's own beat (its canary): a silent watch is re-made. */
  readonly echoes: { instances: number; views: number; overrides: number };
}

/** Own beats not seen back for this long mean a watch went silent (a cluster node lost, say): re-made. */
const WATCH_SILENCE_MS = 3500;

export class FleetMember {
  readonly counters: FleetCounters = { viewsPublished: 0, viewsReceived: 0, aloneTransitions: 0, overridesReceived: 0 };
  readonly #options: FleetMemberOptions;
  readonly #heartbeatMs: number;
  readonly #sessionId = randomBytes(8).toString('hex');
  readonly #startedAt = Date.now();
  /** probeKey → instance → that instance's latest view (others only; our own is the health state). */
  readonly #views = new Map<string, Map<string, InstanceView & { quorum: string }>>();
  readonly #presences = new Map<string, PresenceValue>();
  readonly #lastPublished = new Map<string, { status: 'up' | 'down'; at: number }>();
  #session: Session | null = null;
  #generation = 0;
  #alone: string | null = 'not connected yet';
  #refused: string | null = null;
  #closed = false;
  #disagreements = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #stopOwnView: () => void;
  readonly #stopRetuned: () => void;
  readonly #stopState: () => void;

  private constructor(options: FleetMemberOptions) {
    this.#options = options;
    this.#heartbeatMs = options.heartbeatMs ?? 1000;
    this.#stopOwnView = options.health.onOwnView((change) => {
      void this.#publish(change.probeKey);
      this.#review(change.probeKey);
    });
    // A reload that changed a check's quorum only: the same probes, decided again now, and the
    // view published again so that the others (and `fleet status`) see the new quorum.
    this.#stopRetuned = options.health.onRetuned((probeKeys) => {
      for (const probeKey of probeKeys) {
        this.#review(probeKey);
        void this.#publish(probeKey, true);
      }
    });
    this.#stopState = options.connection.onState((state, connection) => {
      if (state === 'connected' && connection !== null) void this.#begin(connection);
      else this.#end(state === 'closed' ? 'closed' : 'engine unreachable');
    });
    this.#timer = setInterval(() => this.#tick(), options.reviewMs ?? 250);
    this.#timer.unref();
    options.health.routeOverrides((address, state) => this.#changeOverride(address, state));
  }

  /**
   * Joins the fleet: waits a little for the engine so that a name already in use refuses the start
   * (InstanceNameTaken); an engine that does not answer in time, or whose connection failed, is
   * joined later, in the background.
   */
  static async start(options: FleetMemberOptions): Promise<FleetMember> {
    const member = new FleetMember(options);
    const connection = options.connection.connection;
    if (connection !== null) await member.#begin(connection);
    else {
      const waited = await Promise.race([
        options.connection.whenTried(),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), options.startWaitMs ?? 2000).unref()),
      ]);
      if (waited !== null && member.#session === null) await member.#begin(waited);
    }
    // /status and the metrics say from the first moment whether it decides alone, and why.
    member.#tick();
    if (member.#refused !== null) {
      await member.close();
      throw new InstanceNameTaken(member.#refused);
    }
    return member;
  }

  /** Why this instance decides alone, or null while it decides with the fleet. */
  get alone(): string | null {
    return this.#alone;
  }

  get disagreements(): number {
    return this.#disagreements;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#stopOwnView();
    this.#stopRetuned();
    this.#stopState();
    this.#options.health.routeOverrides(null);
    const session = this.#session;
    this.#end('closed');
    // A clean stop frees the name at once (a crash frees it when its heartbeat goes stale).
    if (session !== null) await session.buckets.instances.delete(instanceKey(this.#options.connection.options.instance)).catch(() => undefined);
  }

  /** The views of one target by instance (this one first), for explain and /status. */
  viewsOf(probeKey: string, known?: TargetSnapshot): ViewReport[] {
    const now = Date.now();
    const target = known ?? this.#options.health.snapshot().targets.find((t) => t.probeKey === probeKey);
    const reports: ViewReport[] = [];
    if (target !== undefined) reports.push({ instance: this.#name, status: target.own, at: new Date(now).toISOString(), fresh: true, reason: target.reason });
    for (const view of this.#views.get(probeKey)?.values() ?? []) {
      reports.push({ instance: view.instance, status: view.status, at: new Date(view.at).toISOString(), fresh: isFresh(view, now), reason: view.reason });
    }
    return reports;
  }

  report(): FleetReport {
    const now = Date.now();
    const connection = this.#options.connection;
    return {
      instance: this.#name,
      connection: this.#refused !== null ? 'refused' : connection.state,
      servers: connection.options.displayUrls,
      alone: this.#alone,
      lastFailure: this.#refused ?? connection.lastFailure,
      instances: [...this.#presences.values()]
        .sort((a, b) => (a.instance < b.instance ? -1 : 1))
        .map((p) => ({ instance: p.instance, version: p.version, seenAt: new Date(p.seenAt).toISOString(), live: presenceIsLive(p, now), zones: p.zones })),
      targets: this.#options.health.snapshot().targets.map((target) => {
        const views = this.viewsOf(target.probeKey, target);
        const fresh = views.filter((view) => view.fresh);
        return {
          probeKey: target.probeKey,
          address: target.address,
          check: target.check.name ?? target.check.type,
          quorum: quorumText(target.check.quorum),
          verdict: target.verdict,
          status: target.status,
          disagree: fresh.some((view) => view.status !== fresh[0]!.status),
          views,
        };
      }),
    };
  }

  get #name(): string {
    return this.#options.connection.options.instance;
  }

  async #begin(connection: NatsConnection): Promise<void> {
    if (this.#closed || this.#refused !== null) return;
    const generation = ++this.#generation;
    const logger = this.#options.logger;
    try {
      const buckets = await openBuckets(connection, this.#options.replicas ?? Math.min(3, this.#options.connection.options.servers.length));
      if (generation !== this.#generation) return;
      const presenceRevision = await this.#claim(buckets.instances);
      if (presenceRevision === null || generation !== this.#generation) return;
      const now = Date.now();
      const session: Session = { generation, buckets, presenceRevision, stops: [], echoes: { instances: now, views: now, overrides: now } };
      this.#session = session;
      await this.#syncOverrides(session);
      this.#startWatches(session);
      for (const target of this.#options.health.snapshot().targets) if (target.probed) void this.#publish(target.probeKey, true);
      this.#tick();
    } catch (error) {
      if (generation !== this.#generation || this.#closed) return;
      logger.warn({ reason: error instanceof Error ? error.message : String(error) }, 'fleet: cannot use the engine\'s key-value buckets yet; answering alone and retrying');
      setTimeout(() => {
        const live = this.#options.connection.connection;
        if (generation === this.#generation && live !== null && this.#session === null) void this.#begin(live);
      }, 1000).unref();
    }
  }

  #end(reason: string): void {
    this.#generation++;
    const session = this.#session;
    this.#session = null;
    for (const stop of session?.stops ?? []) stop();
    if (!this.#closed) this.#tick(reason);
  }

  /**
   * create() makes the presence key only if no one holds it. A holder with a recent heartbeat is
   * watched for two more heartbeats: one that beats again is live (this instance is refused), one
   * that does not was the last beat of an instance gone while the engine was down, and is taken over.
   */
  async #claim(instances: KV): Promise<number | null> {
    const key = instanceKey(this.#name);
    try {
      return await instances.create(key, encodeValue(this.#presenceValue()));
    } catch {
      // Held: by us before a reconnection, by a dead instance, or by a live one.
    }
    let held = await instances.get(key);
    const otherLive = (entry: typeof held): boolean => {
      if (entry === null || entry.operation !== 'PUT') return false;
      const holder = entry.json<PresenceValue>();
      return holder.session !== this.#sessionId && presenceIsLive(holder, Date.now());
    };
    if (otherLive(held)) {
      await new Promise((resolve) => setTimeout(resolve, this.#heartbeatMs * 2 + 200));
      const again = await instances.get(key);
      if (again !== null && held !== null && again.revision !== held.revision && otherLive(again)) {
        const holder = again.json<PresenceValue>();
        this.#refused = `instance name "${this.#name}" is in use by another running instance (version ${holder.version}, started ${new Date(holder.startedAt).toISOString()}); give this one another --instance NAME`;
        this.#options.logger.error({ reason: this.#refused }, 'fleet: instance name taken; not joining the fleet');
        this.#alone = 'instance name taken';
        return null;
      }
      held = again;
    }
    const value = encodeValue(this.#presenceValue());
    return held === null ? instances.create(key, value) : instances.update(key, value, held.revision);
  }

  #presenceValue(): PresenceValue {
    return {
      instance: this.#name,
      session: this.#sessionId,
      version: this.#options.version,
      startedAt: this.#startedAt,
      seenAt: Date.now(),
      heartbeatMs: this.#heartbeatMs,
      zones: this.#options.zones(),
      zoneRevision: this.#options.zoneRevision?.() ?? null,
    };
  }

  #lastHeartbeat = 0;
  #heartbeat(session: Session): void {
    const now = Date.now();
    if (now - this.#lastHeartbeat < this.#heartbeatMs) return;
    this.#lastHeartbeat = now;
    const { echoes } = session;
    if (Math.min(echoes.instances, echoes.views, echoes.overrides) < now - WATCH_SILENCE_MS) {
      this.#options.logger.info('fleet: a watch went silent (its own beats stopped coming back); watching again');
      for (const stop of session.stops) stop();
      session.stops = [];
      echoes.instances = echoes.views = echoes.overrides = now;
      this.#startWatches(session);
    }
    const beat = encodeValue({ instance: this.#name, at: now });
    void session.buckets.views.put(`beat.${this.#name}`, beat).catch(() => undefined);
    void session.buckets.overrides.put(`beat.${this.#name}`, beat).catch(() => undefined);
    const key = instanceKey(this.#name);
    session.buckets.instances.update(key, encodeValue(this.#presenceValue()), session.presenceRevision).then(
      (revision) => {
        session.presenceRevision = revision;
      },
      async () => {
        if (session !== this.#session) return;
        // Someone wrote our key: a same-named instance that took it over while we were cut off.
        const held = await session.buckets.instances.get(key).catch(() => null);
        const holder = held?.operation === 'PUT' ? held.json<PresenceValue>() : null;
        if (holder !== null && holder.session !== this.#sessionId && presenceIsLive(holder, Date.now())) {
          this.#refused = `instance name "${this.#name}" was taken over by another running instance; this one left the fleet`;
          this.#options.logger.error({ reason: this.#refused }, 'fleet: instance name taken; leaving the fleet');
          this.#end('instance name taken');
          return;
        }
        session.presenceRevision = await session.buckets.instances.put(key, encodeValue(this.#presenceValue())).catch(() => session.presenceRevision);
      },
    );
  }

  #watch(session: Session, kv: KV, key: string, take: (entry: { key: string; operation: string; json<T>(): T }) => void): void {
    let stopped = false;
    let iterator: { stop(): void } | null = null;
    session.stops.push(() => {
      stopped = true;
      iterator?.stop();
    });
    void (async () => {
      const entries = await kv.watch({ key });
      iterator = entries;
      if (stopped) entries.stop();
      for await (const entry of entries) {
        if (stopped) break;
        try {
          take(entry);
        } catch (error) {
          this.#options.logger.warn({ reason: String(error), key: entry.key }, 'fleet: skipped a value it cannot read');
        }
      }
    })().catch((error: unknown) => {
      if (!stopped) this.#options.logger.warn({ reason: String(error) }, 'fleet: a watch ended');
    });
  }

  #takeView(entry: { key: string; operation: string; json<T>(): T }): void {
    const instance = entry.key.split('.')[1] ?? '';
    if (instance === this.#name) return;
    if (entry.operation !== 'PUT') {
      for (const views of this.#views.values()) views.delete(instance);
      return;
    }
    const value = entry.json<ViewValue>();
    this.counters.viewsReceived++;
    let views = this.#views.get(value.probeKey);
    if (views === undefined) this.#views.set(value.probeKey, (views = new Map()));
    views.set(instance, { instance, status: value.status, at: value.at, reason: value.reason, intervalMs: value.intervalMs, timeoutMs: value.timeoutMs, quorum: value.quorum });
    this.#review(value.probeKey);
  }

  #takePresence(entry: { key: string; operation: string; json<T>(): T }): void {
    const instance = entry.key.slice('instance.'.length);
    if (entry.operation !== 'PUT') this.#presences.delete(instance);
    else this.#presences.set(instance, entry.json<PresenceValue>());
  }

  async #publish(probeKey: string, force = false): Promise<void> {
    const session = this.#session;
    if (session === null) return;
    const target = this.#options.health.snapshot().targets.find((t) => t.probeKey === probeKey);
    if (target === undefined || !target.probed) return;
    const now = Date.now();
    const last = this.#lastPublished.get(probeKey);
    if (!force && last !== undefined && last.status === target.own && now - last.at < 2 * target.check.intervalMs) return;
    this.#lastPublished.set(probeKey, { status: target.own, at: now });
    const value: ViewValue = {
      instance: this.#name,
      probeKey,
      address: target.address,
      check: target.check.name ?? target.check.type,
      quorum: quorumText(target.check.quorum),
      status: target.own,
      reason: target.own === 'down' ? target.reason : null,
      at: now,
      intervalMs: target.check.intervalMs,
      timeoutMs: target.check.timeoutMs,
    };
    try {
      await session.buckets.views.put(viewKey(this.#name, probeKey), encodeValue(value));
      this.counters.viewsPublished++;
    } catch (error) {
      this.#lastPublished.delete(probeKey);
      if (session === this.#session) this.#options.logger.debug({ reason: String(error) }, 'fleet: publishing a view failed; retried');
    }
  }

  /** The verdict of one target from the fresh views (or alone). */
  #review(probeKey: string, target?: TargetSnapshot): boolean {
    const health = this.#options.health;
    const own = target ?? health.snapshot().targets.find((t) => t.probeKey === probeKey);
    if (own === undefined) return false;
    const now = Date.now();
    const others = this.#session === null ? [] : [...(this.#views.get(probeKey)?.values() ?? [])].filter((view) => isFresh(view, now));
    if (others.length === 0) {
      health.setVerdict(probeKey, null, this.#session === null ? 'deciding alone: engine unreachable' : 'deciding alone: no other fresh view');
      return false;
    }
    const verdict = decide(own.check.quorum ?? 'majority', [{ status: own.own }, ...others]);
    health.setVerdict(probeKey, verdict.status, `fleet ${verdict.reason}`);
    return true;
  }

  #tick(reason?: string): void {
    const session = this.#session;
    if (session !== null) this.#heartbeat(session);
    let shared = false;
    let disagreements = 0;
    const now = Date.now();
    for (const target of this.#options.health.snapshot().targets) {
      if (session !== null && target.probed) {
        const last = this.#lastPublished.get(target.probeKey);
        if (last === undefined || now - last.at >= 2 * target.check.intervalMs) void this.#publish(target.probeKey);
      }
      if (this.#review(target.probeKey, target)) {
        shared = true;
        const fresh = [...(this.#views.get(target.probeKey)?.values() ?? [])].filter((view) => isFresh(view, now));
        if (fresh.some((view) => view.status !== target.own)) disagreements++;
      }
    }
    this.#disagreements = disagreements;
    const others = [...this.#presences.values()].some((p) => p.instance !== this.#name && presenceIsLive(p, now));
    const alone =
      this.#refused !== null
        ? 'instance name taken'
        : session === null
          ? (reason ?? (this.#options.connection.state === 'connected' ? 'joining' : 'engine unreachable'))
          : shared || (others && this.#options.health.snapshot().targets.length === 0)
            ? null
            : 'no other instance has a fresh view';
    if (alone === this.#alone) return;
    const before = this.#alone;
    this.#alone = alone;
    if (alone === null) this.#options.logger.info({ instance: this.#name }, 'fleet: deciding with the fleet (views shared by quorum)');
    else if (before === null) {
      this.counters.aloneTransitions++;
      this.#options.logger.warn({ instance: this.#name, reason: alone }, 'fleet: deciding alone, on this instance\'s own probes');
    }
  }

  async #syncOverrides(session: Session): Promise<void> {
    const health = this.#options.health;
    const stored = await readAll<OverrideValue>(session.buckets.overrides, 'override.>');
    const kept = new Set(stored.map((value) => value.address));
    // The engine holds the fleet's overrides: a local one it does not know was cleared meanwhile.
    for (const [address] of health.overrideEntries()) if (!kept.has(address)) await this.#apply(address, null);
  }

  /**
   * Watches every bucket ('>' so that this instance's own beat comes back through each watch: a
   * watch whose beats stop coming is silent, as an ordered consumer can be for a while after the
   * server holding its stream dies, and is made again).
   */
  #startWatches(session: Session): void {
    const beat = `beat.${this.#name}`;
    this.#watch(session, session.buckets.views, '>', (entry) => {
      if (entry.key === beat) session.echoes.views = Date.now();
      else if (entry.key.startsWith('view.')) this.#takeView(entry);
    });
    this.#watch(session, session.buckets.instances, '>', (entry) => {
      if (entry.key === instanceKey(this.#name)) session.echoes.instances = Date.now();
      if (entry.key.startsWith('instance.')) this.#takePresence(entry);
    });
    this.#watch(session, session.buckets.overrides, '>', (entry) => {
      if (entry.key === beat) {
        session.echoes.overrides = Date.now();
        return;
      }
      if (!entry.key.startsWith('override.')) return;
      if (entry.operation !== 'PUT') {
        const address = this.#addressOfKey(entry.key);
        if (address !== null) void this.#apply(address, null);
        return;
      }
      const value = entry.json<OverrideValue>();
      this.counters.overridesReceived++;
      void this.#apply(value.address, value.state);
    });
  }

  #addressOfKey(key: string): string | null {
    const token = key.slice('override.'.length);
    for (const [address] of this.#options.health.overrideEntries()) if (overrideKey(address) === key) return address;
    return token.includes('-') ? token.replaceAll('-', ':') : token.replaceAll('_', '.');
  }

  async #apply(address: string, state: OverrideState | null): Promise<void> {
    try {
      await this.#options.health.applyOverride(address, state);
    } catch (error) {
      this.#options.logger.error({ member: address, reason: String(error) }, 'fleet: cannot apply an override from the fleet');
    }
  }

  /** An override asked for here: stored for the fleet, resolved once in force on this instance. */
  async #changeOverride(address: string, state: OverrideState | null): Promise<void> {
    const session = this.#session;
    if (session === null) {
      throw new Error(`the fleet's engine is unreachable (${this.#alone ?? 'not connected'}): a fleet-wide override cannot be stored now; try again when it is back`);
    }
    const key = overrideKey(address);
    if (state === null) await session.buckets.overrides.delete(key);
    else await session.buckets.overrides.put(key, encodeValue({ address, state, at: Date.now(), by: this.#name } satisfies OverrideValue));
    const deadline = Date.now() + 3000;
    while (this.#options.health.overrideOf(address) !== state) {
      if (Date.now() > deadline) throw new Error('the override was stored for the fleet but has not come back from the engine within 3 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
