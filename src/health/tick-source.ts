/**
 * health/tick-source: the scheduler's sense of time. A tick about once a second from one node-cron
 * task on `* * * * * *` in a thread of its own, restarted by a watchdog when it stops firing, and
 * monotonic time with timers; both injectable, so scheduling is tested without waiting.
 */
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../telemetry/logger.js';
import { errorReason } from './probes/probe.js';

/** Monotonic time and timers, injectable so scheduling can be tested without waiting. */
export interface MonitorClock {
  /** Monotonic milliseconds (not wall-clock: a clock step must not stall or burst probes). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Starts calling `onTick` about once a second; the returned handle stops it. */
export type TickSource = (onTick: () => void) => { stop(): void };

export const TICK_MS = 1000;

/** The tick thread's message for one tick. */
const TICK_MESSAGE = 0;

export const realClock: MonitorClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * What the tick thread runs: the node-cron task, posting `TICK` to the answering thread each time
 * it fires and its log lines as `{ level, message }`. Plain CommonJS, so the thread needs no
 * TypeScript loader, only node-cron (whose path it is given).
 */
const TICK_THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const cron = require(workerData.nodeCron);
const log = (level, message) => parentPort.postMessage({ level, message: String(message) });
cron.schedule('* * * * * *', () => parentPort.postMessage(${TICK_MESSAGE}), {
  name: 'meridian-health-tick',
  noOverlap: true,
  suppressMissedWarning: true,
  logger: {
    info: (message) => log('debug', message),
    warn: (message) => log('debug', message),
    error: (message, err) => log('error', err === undefined ? message : String(err)),
    debug: (message) => log('trace', message),
  },
});
`;

interface TickThreadLog {
  level: 'trace' | 'debug' | 'error';
  message: string;
}

function isTickThreadLog(message: unknown): message is TickThreadLog {
  return typeof message === 'object' && message !== null && 'level' in message && 'message' in message;
}

/**
 * The default tick driver: one node-cron task on `* * * * * *`, run in a thread of its own, plus a
 * watchdog here that restarts that thread when ticks stop (node-cron plans on the wall clock, so a
 * backwards clock step stalls it).
 *
 * Why a thread: node-cron 4 matches each second against the expression through
 * `Intl.DateTimeFormat#formatToParts`, which costs 1.8-1.9 ms of CPU a tick, half of it garbage
 * collection (bench/README.md). On the answering thread that is a pause each second in front of
 * every query waiting; in its own thread and heap it delays nothing, and the answering thread
 * receives one small message a second.
 */
export function cronTickSource(logger: Logger): TickSource {
  const nodeCron = createRequire(import.meta.url).resolve('node-cron');
  return (onTick) => {
    let lastTick = performance.now();
    let stopped = false;
    const start = (): Worker => {
      // No inherited flags: the parent's may load tsx or hold V8 options a worker refuses.
      const thread = new Worker(TICK_THREAD_SOURCE, { eval: true, execArgv: [], workerData: { nodeCron }, name: 'meridian-health-tick' });
      thread.on('message', (message: unknown) => {
        if (message === TICK_MESSAGE) {
          lastTick = performance.now();
          onTick();
        } else if (isTickThreadLog(message)) {
          if (message.level === 'error') logger.error({ reason: message.message }, 'node-cron error');
          else logger[message.level]({ reason: message.message }, 'node-cron');
        }
      });
      thread.on('error', (err) => logger.error({ reason: errorReason(err) }, 'health scheduler thread failed'));
      return thread;
    };
    let thread = start();
    const watchdog = setInterval(() => {
      if (stopped || performance.now() - lastTick < 3 * TICK_MS + 500) return;
      logger.warn({ reason: 'no scheduler tick for 3 s (wall clock stepped back?)' }, 'restarting health scheduler');
      void thread.terminate();
      try {
        thread = start();
      } catch (err) {
        logger.error({ reason: errorReason(err) }, 'cannot restart health scheduler');
      }
      lastTick = performance.now();
    }, 2 * TICK_MS);
    // The watchdog alone must not keep a stopping process alive.
    watchdog.unref();
    return {
      stop: () => {
        stopped = true;
        clearInterval(watchdog);
        void thread.terminate();
      },
    };
  };
}
