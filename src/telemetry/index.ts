/**
 * telemetry/: what the server says about itself. The pino logger and its fixed field vocabulary,
 * the query-path counters as flat typed arrays (and their sum across cluster processes), every
 * Prometheus metric built from them at scrape time, and the log of errors met where logging is
 * not allowed. Must never: increment a labelled prom-client metric or log per query.
 */
export * from './logger.js';
export * from './query-stats.js';
export * from './metrics.js';
export * from './counter-totals.js';
export * from './fault-log.js';
