/**
 * `serve --workers N`: N processes answering on the same sockets: the primary and N-1 workers.
 *
 * The primary is a whole server: it binds the sockets, answers queries, runs every health
 * probe (once, not once per process), owns the admin endpoint and the state file. It hands its
 * bound sockets to each worker (child_process IPC passes the descriptors), so the kernel spreads
 * datagrams and connections over every process reading them, and tells workers about every
 * health change the moment it happens. Batched UDP sockets (`--io batched`) belong to the native
 * module and cannot travel: the primary binds its own with SO_REUSEPORT and tells each worker the
 * address, where the worker binds one of its own; the kernel hashes each sender's flow to one of
 * them (as gdnsd's threads share a port). Workers answer from their own compiled zones with a
 * replica of the primary's health state and report counters when /metrics is scraped.
 *
 * Not node:cluster: its primary only distributes, so N answering processes would cost N+1
 * Node runtimes (~70 MB of RSS each) where N suffice.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket as UdpSocket } from 'node:dgram';
import type { Server as TcpServer } from 'node:net';
import type { ListenAddress } from '../config/index.js';
import { ReplicaHealth, healthSyncOf, type HealthChange, type HealthSync } from '../health/index.js';
import { WorkerCounterBook, type CounterSnapshot, type Logger } from '../telemetry/index.js';
import { startMeridian, type RunningMeridian, type ServerOptions } from './meridian.js';

type Worker = ChildProcess;

/** Messages from a worker to the primary. */
type WorkerMessage =
  | { t: 'hello' }
  /** Zones compiled, geo open: hand over the sockets. */
  | { t: 'ready' }
  | { t: 'listening'; addresses: ListenAddress[] }
  | { t: 'fatal'; message: string; code?: string; address?: string; port?: number }
  | { t: 'counters'; id: number; snapshot: CounterSnapshot };

/** Messages from the primary to a worker. */
type PrimaryMessage =
  /** The health state to start from, and how many listening addresses' sockets follow. */
  | { t: 'health-sync'; sync: HealthSync; sockets: number; zonesPath: string }
  | { t: 'health-change'; change: HealthChange }
  /** Sent with a socket handle each; `of` says how many of each kind to expect in all. */
  | { t: 'udp' | 'tcp'; index: number; address: ListenAddress }
  /** Batched I/O: bind a UDP socket of your own on this address (SO_REUSEPORT, beside the primary's). */
  | { t: 'udp-port'; index: number; address: ListenAddress }
  /** Reload the zones; with `zonesPath`, serve that fleet revision folder from now on. */
  | { t: 'reload'; zonesPath?: string }
  | { t: 'counters?'; id: number }
  | { t: 'shutdown' };

const COUNTER_TIMEOUT_MS = 500;
const SHUTDOWN_GRACE_MS = 1200;
const MAX_RESTARTS_PER_MINUTE = 5;
/** Past MAX_RESTARTS_PER_MINUTE, a dead worker is started again after 1 s, 2 s, 4 s … at most a minute. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 60_000;

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

function send(worker: Worker, message: PrimaryMessage, handle?: UdpSocket | TcpServer): void {
  if (worker.connected) worker.send(message, handle as never);
}

/** Starts the primary (a whole server), then forks the workers and waits until they all answer. */
export async function startClusterPrimary(options: ServerOptions, processCount: number): Promise<ClusterPrimary> {
  const logger: Logger = options.logger;
  const workerCount = processCount - 1;
  const workers = new Set<Worker>();
  const listening = new Set<Worker>();
  let shuttingDown = false;
  let counterRequest = 0;
  const pendingCounters = new Map<number, { waiting: number; done: () => void }>();
  const workerCounters = new WorkerCounterBook<Worker>();
  const restarts: number[] = [];
  // Degraded: workers died too often; the primary answers alone while they are retried with backoff.
  let degraded = false;
  let retryStep = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let startupComplete = false;

  const running = await startMeridian({
    ...options,
    udpPortShared: workerCount > 0,
    keepParserWarm: false,
    // A fleet revision the primary swapped in: every worker serves it too.
    onZonesSwitched: (folder) => {
      for (const worker of workers) send(worker, { t: 'reload', zonesPath: folder });
    },
    peers: {
      // Every worker's fresh counters; a worker that does not answer in time counts with its
      // last report, and workers gone with their last totals, so no sum ever goes down.
      counters: () =>
        new Promise<CounterSnapshot[]>((resolve) => {
          const id = ++counterRequest;
          const targets = [...listening].filter((w) => w.connected);
          const entry = { waiting: targets.length, done: () => undefined as void };
          const timer = setTimeout(() => finish(), COUNTER_TIMEOUT_MS);
          const finish = (): void => {
            clearTimeout(timer);
            pendingCounters.delete(id);
            resolve(workerCounters.snapshots());
          };
          entry.done = finish;
          pendingCounters.set(id, entry);
          if (targets.length === 0) return finish();
          for (const worker of targets) send(worker, { t: 'counters?', id });
        }),
    },
    // Ready (GET /readyz) once every worker answers at start-up; after that the primary's own
    // sockets answer whatever happens to the workers, so losing some is degraded, not unready.
    readyWhen: () => startupComplete || listening.size >= workerCount,
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

  const handOverSockets = (worker: Worker): void => {
    const { udp, tcp, io } = running.sockets;
    const addresses = running.addresses;
    if (io === 'batched') addresses.forEach((address, index) => send(worker, { t: 'udp-port', index, address }));
    else udp.forEach((socket, index) => send(worker, { t: 'udp', index, address: addresses[index]! }, socket));
    tcp.forEach((server, index) => send(worker, { t: 'tcp', index, address: addresses[index]! }, server));
  };

  // Workers run with the primary's node flags (the young generation cap of the launch command).
  const execArgv = process.execArgv;
  const startWorker = (): void => {
    const worker = fork(process.argv[1]!, process.argv.slice(2), {
      execArgv,
      env: { ...process.env, MERIDIAN_CLUSTER_WORKER: '1' },
      // Workers log through their own stdout/stderr, which are the primary's.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // The descriptors travel with the messages; the default (JSON) serialisation carries them.
      serialization: 'json',
    });
    workers.add(worker);
    worker.on('message', (message: WorkerMessage) => {
      switch (message.t) {
        case 'hello':
          send(worker, { t: 'health-sync', sync: healthSyncOf(running.health.snapshot()), sockets: running.addresses.length, zonesPath: running.zonesPath() });
          break;
        case 'ready':
          handOverSockets(worker);
          break;
        case 'listening':
          listening.add(worker);
          if (listening.size >= workerCount) startupDone?.();
          if (degraded && listening.size >= workerCount) {
            degraded = false;
            logger.info({ processes: workerCount + 1 }, `workers answer again; answering in ${workerCount + 1} processes`);
          }
          break;
        case 'fatal':
          startupFailure?.(new StartError(message.message, message.code, message.address, message.port));
          break;
        case 'counters': {
          workerCounters.report(worker, message.snapshot);
          const pending = pendingCounters.get(message.id);
          if (pending && --pending.waiting <= 0) pending.done();
          break;
        }
      }
    });
    worker.on('error', (error) => logger.error({ reason: String(error) }, 'worker IPC error'));
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      listening.delete(worker);
      workerCounters.retire(worker);
      if (shuttingDown) return;
      if (startupDone !== null) {
        startupFailure?.(new StartError(`a worker exited during start-up (code ${code ?? signal})`));
        return;
      }
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0]! > 60_000) restarts.shift();
      restarts.push(now);
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        // The primary answers on its own meanwhile: degraded, not down. Logged when it begins;
        // each further death in that state only pushes the next try further out.
        const delay = Math.min(RETRY_FIRST_MS * 2 ** retryStep, RETRY_MAX_MS);
        retryStep++;
        if (!degraded) {
          degraded = true;
          logger.error({ code, signal, retryInMs: delay }, 'workers keep dying; answering from the primary alone and retrying with backoff');
        }
        if (retryTimer === null) {
          retryTimer = setTimeout(() => {
            retryTimer = null;
            // One try for every worker missing, however many died while this timer ran.
            for (let missing = workerCount - workers.size; missing > 0 && !shuttingDown; missing--) startWorker();
          }, delay);
        }
        return;
      }
      retryStep = 0;
      logger.error({ code, signal }, 'a worker died; starting another');
      startWorker();
    });
  };

  const closeAll = async (): Promise<void> => {
    shuttingDown = true;
    if (retryTimer !== null) clearTimeout(retryTimer);
    const exits = [...workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.exitCode !== null || worker.signalCode !== null) return resolve();
          worker.once('exit', () => resolve());
          send(worker, { t: 'shutdown' });
          setTimeout(() => {
            if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
          }, SHUTDOWN_GRACE_MS).unref();
        }),
    );
    await Promise.all([...exits, running.close()]);
  };

  for (let i = 0; i < workerCount; i++) startWorker();
  try {
    if (workerCount > 0) await started;
  } catch (error) {
    await closeAll();
    throw error;
  }
  startupDone = null;
  startupFailure = null;
  startupComplete = true;
  logger.info({ processes: processCount }, `answering in ${processCount} processes`);
  return {
    running,
    reload() {
      // A failed reload is logged and counted by reloadZones itself, in every process.
      running.reloadZones().catch(() => undefined);
      running.geo?.reload().catch((error: unknown) => logger.error({ reason: String(error) }, 'geo reload failed'));
      for (const worker of workers) send(worker, { t: 'reload' });
    },
    close: closeAll,
  };
}

/** Runs a worker: waits for the primary's health state and sockets, answers queries, serves counter requests. */
export async function runClusterWorker(options: ServerOptions): Promise<void> {
  const replica = new ReplicaHealth();
  let running: RunningMeridian | null = null;
  let synced: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => (synced = resolve));
  let socketsExpected = -1;
  // The primary's zones path: with --zones-from-fleet, the revision folder it serves.
  let zonesPath = options.zonesPath;
  let socketsAdopted = 0;
  let socketsArrived: () => void = () => undefined;
  const allSockets = new Promise<void>((resolve) => (socketsArrived = resolve));
  const reply = (message: WorkerMessage): void => {
    if (process.connected) process.send?.(message);
  };
  const stop = (): void => {
    const done = (): never => process.exit(0);
    if (running) running.close().then(done, done);
    else done();
  };
  process.on('message', (message: PrimaryMessage, handle: unknown) => {
    switch (message.t) {
      case 'health-sync':
        replica.applySync(message.sync);
        socketsExpected = message.sockets * 2;
        zonesPath = message.zonesPath;
        synced();
        break;
      case 'health-change':
        replica.applyChange(message.change);
        // Sign ahead here too what the new state answers, before a DO=1 query asks for it.
        running?.dnssec?.healthChanged();
        break;
      case 'udp':
      case 'tcp':
      case 'udp-port':
        // Serve it in this very turn: the socket already reads, and an unheard datagram is lost.
        if (running === null) break;
        try {
          if (message.t === 'udp') running.adopt({ udp: handle as UdpSocket, address: message.address });
          else if (message.t === 'tcp') running.adopt({ tcp: handle as TcpServer });
          else running.adopt({ udpPort: message.address });
        } catch (error) {
          // Only a socket of its own can fail here (batched I/O: binding the primary's address).
          const err = error as Error;
          reply({ t: 'fatal', message: `binding ${message.address.host}:${message.address.port} beside the primary: ${err.message}` });
          setTimeout(() => process.exit(1), 100).unref();
          break;
        }
        if (++socketsAdopted === socketsExpected) socketsArrived();
        break;
      case 'reload':
        // Logged and counted by reloadZones itself; a failed geo reload is logged by the locator.
        if (message.zonesPath !== undefined) {
          running?.switchZones(message.zonesPath).catch(() => undefined);
          break;
        }
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
    running = await startMeridian({ ...options, zonesPath, listen: [], admin: undefined, keepParserWarm: false, worker: { health: replica } });
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { address?: string; port?: number };
    reply({ t: 'fatal', message: err.message, code: err.code, address: err.address, port: err.port });
    setTimeout(() => process.exit(1), 100).unref();
    return;
  }
  if (socketsExpected === 0) socketsArrived();
  reply({ t: 'ready' });
  await allSockets;
  reply({ t: 'listening', addresses: [...running.addresses] });
}

/** True in a process forked by startClusterPrimary. */
export function isClusterWorker(): boolean {
  return process.env.MERIDIAN_CLUSTER_WORKER === '1' && typeof process.send === 'function';
}
