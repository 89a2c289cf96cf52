/**
 * config/: command-line values → typed settings (listen addresses, durations), with errors an
 * operator can act on. Owns no state and starts nothing.
 */
export * from './duration.js';
export * from './listen-address.js';
