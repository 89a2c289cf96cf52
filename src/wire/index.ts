/**
 * wire/: bytes in, bytes out. Owns the UDP and TCP sockets, request decoding, EDNS (OPT,
 * client subnet, NSID) and response encoding from pre-encoded records. It knows no zone and
 * never throws into a socket loop: a bad packet is dropped or gets FORMERR.
 */
export * from './dns-constants.js';
export * from './record-encoding.js';
export * from './decode-query.js';
export * from './encode-response.js';
export * from './listeners.js';
