/**
 * rate-limit/: response rate limiting (RRL, as BIND's `rate-limit` and Knot's `mod-rrl`) for UDP
 * answers. Owns the token table (client prefix × response class × name, fixed size, oldest
 * evicted), the response classes and the name hash the query path keys them by, client address
 * parsing and `--rrl-exempt` blocks, and the review that advances its clock and logs when a
 * prefix starts and stops being limited. Must never: read a clock, allocate, log or throw in
 * `decide()` (it runs per UDP answer); limit TCP (the caller only asks for UDP); key by the ECS
 * subnet (a spoofer chooses it).
 */
export * from './client-address.js';
export * from './response-class.js';
export * from './response-rate-limiter.js';
export * from './rate-limit-review.js';
export * from './rate-limit-flags.js';
export * from './start-rate-limiting.js';
