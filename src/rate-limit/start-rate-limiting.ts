/**
 * Response rate limiting as a server runs it (--rrl): the limiter the packet handler asks, the
 * review that moves its clock and logs, one close, and its counters as /metrics reads them.
 */
import type { Logger } from '../telemetry/index.js';
import { startRateLimitReview } from './rate-limit-review.js';
import { ResponseRateLimiter, type RateLimitSettings } from './response-rate-limiter.js';

export interface RateLimiting {
  readonly limiter: ResponseRateLimiter;
  close(): void;
}

export function startRateLimiting(settings: RateLimitSettings, logger: Logger): RateLimiting {
  const limiter = new ResponseRateLimiter(settings);
  const review = startRateLimitReview(limiter, logger);
  return { limiter, close: () => review.stop() };
}

/** The limiter's counters by the names /metrics reads (zeros when rate limiting is off). */
export function rateLimitCounters(limiter: ResponseRateLimiter | null): Record<string, number> {
  const c = limiter?.counters;
  return { rrlLimited: c?.limited ?? 0, rrlSlipped: c?.slipped ?? 0, rrlDropped: c?.dropped ?? 0, rrlBadCookie: c?.badCookie ?? 0, rrlEvicted: c?.evicted ?? 0, rrlTokensInUse: limiter?.tokensInUse() ?? 0 };
}
