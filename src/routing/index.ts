/**
 * routing/: the policies. Pure functions of (records or pools, client, health, randomness):
 * round robin, weighted choice, failover, geo rules. No clock, no socket, no global state:
 * what it remembers lives in the RouteCache its caller owns; every routed answer carries its decision.
 */
export * from './random-source.js';
export * from './shuffle.js';
export * from './weighted-pick.js';
export * from './geo-rules.js';
export * from './route-name.js';
