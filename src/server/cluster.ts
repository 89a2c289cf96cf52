/**
 * `serve --workers N`: one primary and N workers sharing the DNS sockets (node:cluster).
 *
 * The primary loads the zones, runs every health probe (once, not once per worker), owns the
 * admin endpoint and the state file, and tells workers about every health change the moment it
 * happens. Workers answer queries from their own compiled zones with a replica of the primary's
 * health state; they report counters to the primary when /metrics is scraped.
 */
import cluster, { type Worker } from 'node:cluster';
import { formatListenAddress, type ListenAddress } from '../config/index.js';
import { ReplicaHealth, healthSyncOf, type HealthChange, type HealthSync } from '../health/index.js';
import type { CounterSnapshot } from '../telemetry/query-stats.js';
import type { Logger } from '../telemetry/logger.js';
import { startMeridian, type RunningMeridian, type ServerOptions } from './meridian.js';

/** Messages from a worker to the primary. */
type WorkerMessage =
  | { t: 'hello' }
  | { t: 'listening'; addresses: ListenAddress[] }
  | { t: 'fatal'; message: string; code?: string; address?: string; port?: number }
  | { t: 'counters'; id: number; snapshot: CounterSnapshot };

/** Messages from the primary to a worker. */
type PrimaryMessage =
  | { t: 'health-sync'; sync: HealthSync }
  | { t: 'health-change'; change: HealthChange }
  | { t: 'reload' }
  | { t: 'counters?'; id: number }
  | { t: 'shutdown' };

const COUNTER_TIMEOUT_MS = 500;
const SHUTDOWN_GRACE_MS = 1200;
const MAX_RESTARTS_PER_MINUTE = 5;

/** What a failed start looks like to the CLI, whichever process it happened in. */
export class StartError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    readonly address?: string,
    readonly port?: number,
  ) {
    super(message);
  }
}

export interface ClusterPrimary {
  running: RunningMeridian;
  reload(): void;
  close(): Promise<void>;
}

function send(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message);
}

/** Starts the primary: zones, probes, admin; then forks the workers and waits until they all listen. */
export async function startClusterPrimary(options: ServerOptions, workerCount: number): Promise<ClusterPrimary> {
  const logger: Logger = options.logger;
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  let announced = false;
  let shuttingDown = false;
  let counterRequest = 0;
  const pendingCounters = new Map<number, { snapshots: CounterSnapshot[]; expected: number; done: () => void }>();
  const restarts: number[] = [];

  const running = await startMeridian({
    ...options,
    listen: [],
    // Workers locate clients; the primary never answers a query.
    geoDisabled: true,
    keepParserWarm: false,
    peers: {
      counters: () =>
        new Promise<CounterSnapshot[]>((resolve) => {
          const id = ++counterRequest;
          const targets = [...listening].filter((w) => w.isConnected());
          const entry = { snapshots: [] as CounterSnapshot[], expected: targets.length, done: () => undefined as void };
          const timer = setTimeout(() => finish(), COUNTER_TIMEOUT_MS);
          const finish = (): void => {
            clearTimeout(timer);
            pendingCounters.delete(id);
            resolve(entry.snapshots);
          };
          entry.done = finish;
          pendingCounters.set(id, entry);
          if (targets.length === 0) return finish();
          for (const worker of targets) send(worker, { t: 'counters?', id });
        }),
    },
    readyWhen: () => listening.size === workerCount,
  });

  running.health.onChange((change) => {
    for (const worker of workers) send(worker, { t: 'health-change', change });
  });

  let startupFailure: ((error: StartError) => void) | null = null;
  let startupDone: (() => void) | null = null;
  const started = new Promise<void>((resolve, reject) => {
    startupDone = resolve;
    startupFailure = reject;
  });

  const fork = (): void => {
    const worker = cluster.fork({ MERIDIAN_CLUSTER_WORKER: '1' });
    workers.add(worker);
    worker.on('message', (message: WorkerMessage) => {
      switch (message.t) {
        case 'hello':
          send(worker, { t: 'health-sync', sync: healthSyncOf(running.health.snapshot()) });
          break;
        case 'listening':
          listening.add(worker);
          // Announce once every worker answers, so "listening" means the whole server is up.
          if (!announced && listening.size === workerCount) {
            announced = true;
            for (const address of message.addresses) {
              const text = formatListenAddress(address);
              logger.info({ address: text, transport: 'udp', workers: workerCount }, `listening on ${text} udp`);
              logger.info({ address: text, transport: 'tcp', workers: workerCount }, `listening on ${text} tcp`);
            }
          }
          if (listening.size === workerCount) startupDone?.();
          break;
        case 'fatal':
          startupFailure?.(new StartError(message.message, message.code, message.address, message.port));
          break;
        case 'counters': {
          const pending = pendingCounters.get(message.id);
          if (!pending) break;
          pending.snapshots.push(message.snapshot);
          if (pending.snapshots.length >= pending.expected) pending.done();
          break;
        }
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      listening.delete(worker);
      if (shuttingDown) return;
      if (startupDone !== null && listening.size < workerCount && !announced) {
        startupFailure?.(new StartError(`a worker exited during start-up (code ${code ?? signal})`));
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0]! > 60_000) restarts.shift();
      if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
        logger.fatal({ code, signal }, 'workers keep dying; giving up');
        process.exitCode = 1;
        void closeAll().then(() => process.exit(1));
        return;
      }
      restarts.push(now);
      logger.error({ code, signal }, 'a worker died; starting another');
      fork();
    });
  };

  const closeAll = async (): Promise<void> => {
    shuttingDown = true;
    const exits = [...workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          send(worker, { t: 'shutdown' });
          setTimeout(() => {
            if (!worker.isDead()) worker.process.kill('SIGKILL');
          }, SHUTDOWN_GRACE_MS).unref();
        }),
    );
    await Promise.all(exits);
    await running.close();
  };

  for (let i = 0; i < workerCount; i++) fork();
  try {
    await started;
  } catch (error) {
    await closeAll();
    throw error;
  }
  startupDone = null;
  startupFailure = null;
  return {
    running,
    reload() {
      running.reloadZones().catch((error: unknown) => logger.error({ reason: String(error) }, 'reload failed'));
      for (const worker of workers) send(worker, { t: 'reload' });
    },
    close: closeAll,
  };
}

/** Runs a worker: waits for the primary's health state, answers queries, serves counter requests. */
export async function runClusterWorker(options: ServerOptions): Promise<void> {
  const replica = new ReplicaHealth();
  let running: RunningMeridian | null = null;
  let synced: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => (synced = resolve));
  const reply = (message: WorkerMessage): void => {
    if (process.connected) process.send?.(message);
  };
  const stop = (): void => {
    const done = (): never => process.exit(0);
    if (running) running.close().then(done, done);
    else done();
  };
  process.on('message', (message: PrimaryMessage) => {
    switch (message.t) {
      case 'health-sync':
        replica.applySync(message.sync);
        synced();
        break;
      case 'health-change':
        replica.applyChange(message.change);
        break;
      case 'reload':
        running?.reloadZones().catch(() => undefined);
        running?.geo?.reload().catch(() => undefined);
        break;
      case 'counters?':
        if (running) reply({ t: 'counters', id: message.id, snapshot: running.counterSnapshot() });
        break;
      case 'shutdown':
        stop();
        break;
    }
  });
  // Signals reach every process of the group (Ctrl-C); the primary coordinates the shutdown.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => undefined);
  process.on('disconnect', stop);
  reply({ t: 'hello' });
  // The first answers must already reflect health: wait for the primary's state.
  await firstSync;
  try {
    running = await startMeridian({ ...options, admin: undefined, keepParserWarm: false, worker: { health: replica } });
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { address?: string; port?: number };
    reply({ t: 'fatal', message: err.message, code: err.code, address: err.address, port: err.port });
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  reply({ t: 'listening', addresses: [...running.addresses] });
}

/** True in a process forked by startClusterPrimary. */
export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env.MERIDIAN_CLUSTER_WORKER === '1';
}
