/**
 * The limiter's clock and its log, off the query path: a timer sets the current second and, each
 * second, says which client prefixes started or stopped being limited (one line each, never one
 * per packet).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../telemetry/index.js';
import type { ResponseRateLimiter } from './response-rate-limiter.js';

const TICK_MS = 250;

export interface RateLimitReview {
  /** Runs one review now (tests, shutdown). */
  run(): void;
  stop(): void;
}

/** Logs what `review()` found: a warning when a prefix starts being limited, a line when it stops. */
export function logLimitingChanges(limiter: ResponseRateLimiter, logger: Logger): void {
  const { started, stopped } = limiter.review();
  for (const change of started) {
    logger.warn({ client: change.prefix, reason: change.classes.join(', ') }, `rate limiting responses to ${change.prefix} (${change.classes.join(', ')}): over the limit`);
  }
  for (const change of stopped) {
    logger.info({ client: change.prefix, count: change.limitedResponses }, `rate limiting of ${change.prefix} stopped (${change.limitedResponses} responses limited)`);
  }
}

/** Starts the clock and the review; the timer does not keep the process alive. */
export function startRateLimitReview(limiter: ResponseRateLimiter, logger: Logger, clockMs: () => number = () => performance.now()): RateLimitReview {
  const origin = clockMs();
  let lastReviewed = 1;
  const second = (): number => 1 + Math.floor((clockMs() - origin) / 1000);
  const run = (): void => {
    const now = second();
    limiter.tick(now);
    if (now === lastReviewed) return;
    lastReviewed = now;
    logLimitingChanges(limiter, logger);
  };
  const timer = setInterval(run, TICK_MS);
  timer.unref();
  return {
    run: () => {
      limiter.tick(second());
      logLimitingChanges(limiter, logger);
    },
    stop: () => clearInterval(timer),
  };
}
