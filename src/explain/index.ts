/**
 * explain/: why a client gets the answer it gets. Runs a real query through the server's own
 * decode → answer → encode path against a ServingState and reports the client's location, the
 * rule, every pool with its members' health and last probe, the outcome and the records.
 * Used by `meridian explain` (zones it loads and probes itself) and by the admin endpoint's
 * /explain (the running server's live state). Must never keep state or do I/O of its own.
 */
export * from './explain-answer.js';
export * from './member-view.js';
