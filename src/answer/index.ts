/**
 * answer/: the authoritative rules that turn a decoded query into response sections, reading
 * the zone catalog, health view and geo locator it is handed. Pure and synchronous: no I/O,
 * no await, no logging; the wire layer encodes what it returns.
 */
export * from './answer-query.js';
