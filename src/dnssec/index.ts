/**
 * dnssec/: DNSSEC for the zones Meridian serves. Owns the keys (BIND's key files, key tags, DS
 * for the parent, timing metadata, the key folder and its watch), the signing algorithms over
 * node:crypto, RRSIGs over the canonical form of pre-encoded RRsets, compact denial (RFC 9824),
 * and each zone's signer: what is signed once and kept so that a signed answer is a buffer copy.
 * It must never sign on a clock of its own on the query path (windows are set off it), nor hold
 * a zone's signatures beyond the zone's authority.
 */
export * from './algorithms.js';
export * from './dnskey.js';
export * from './key-files.js';
export * from './rrsig.js';
export * from './zone-signer.js';
export * from './dnssec-keeper.js';
export * from './start-dnssec.js';
