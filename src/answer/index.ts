/**
 * answer/: the authoritative rules every zone shares, turning a decoded query into response
 * sections by asking the zone's Authority what it holds. Pure and synchronous: no I/O, no
 * await, no logging; the wire layer encodes what it returns.
 */
export * from './answer-query.js';
