/**
 * health/tick-source: the scheduler's sense of time. A tick about once a second from one node-cron
 * task on `* * * * * *`, rebuilt by a watchdog when it stops firing, and monotonic time with timers;
 * both injectable, so scheduling is tested without waiting.
 */
import { performance } from 'node:perf_hooks';
import cron from 'node-cron';
import type { Logger as CronLogger, ScheduledTask } from 'node-cron';
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

export const realClock: MonitorClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The default tick driver: one node-cron task on `* * * * * *`, plus a watchdog that rebuilds it
 * when it stops firing (node-cron plans on the wall clock, so a backwards clock step stalls it).
 */
export function cronTickSource(logger: Logger): TickSource {
  // node-cron's own logger would print to the console; route it to pino at low levels.
  const cronLogger: CronLogger = {
    info: (message) => logger.debug({ reason: message }, 'node-cron'),
    warn: (message) => logger.debug({ reason: message }, 'node-cron'),
    error: (message, err) => logger.error({ reason: String(err ?? message) }, 'node-cron error'),
    debug: (message) => logger.trace({ reason: String(message) }, 'node-cron'),
  };
  const destroy = (task: ScheduledTask): void => {
    Promise.resolve(task.destroy()).catch((err: unknown) => logger.error({ reason: errorReason(err) }, 'node-cron error'));
  };
  return (onTick) => {
    let lastTick = performance.now();
    const make = (): ScheduledTask =>
      cron.schedule(
        '* * * * * *',
        () => {
          lastTick = performance.now();
          onTick();
        },
        // Missed ticks are counted by the scheduler from the monotonic clock, not from node-cron's wall-clock view.
        { name: 'meridian-health-tick', noOverlap: true, logger: cronLogger, suppressMissedWarning: true },
      );
    let task = make();
    const watchdog = setInterval(() => {
      if (performance.now() - lastTick < 3 * TICK_MS + 500) return;
      logger.warn({ reason: 'no scheduler tick for 3 s (wall clock stepped back?)' }, 'restarting health scheduler');
      destroy(task);
      try {
        task = make();
      } catch (err) {
        logger.error({ reason: errorReason(err) }, 'cannot restart health scheduler');
      }
      lastTick = performance.now();
    }, 2 * TICK_MS);
    // The watchdog alone must not keep a stopping process alive.
    watchdog.unref();
    return {
      stop: () => {
        clearInterval(watchdog);
        destroy(task);
      },
    };
  };
}
