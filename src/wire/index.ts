/**
 * wire/: bytes in, bytes out. Owns the UDP and TCP sockets, the server's request decoding and
 * response encoding from pre-encoded records (the query path), and the message codec everything
 * else uses: queries built with EDNS options (`encode-query`) and whole messages decoded into
 * presentation form (`decode-message`, RDATA read through `rdata-cursor` by the record types'
 * presenters), for `explain`, the tests and the benchmark. Both sides share the name rules
 * (`names`), the constants and IP address text ↔ binary (`address-text`: one parser, one
 * printer, for the query path, the zones, rate limiting and cookies). It knows no zone and never
 * throws into a socket loop: a bad packet is dropped or gets FORMERR.
 */
export * from './dns-constants.js';
export * from './names.js';
export * from './pre-encoded-record.js';
export * from './address-text.js';
export * from './query.js';
export * from './decode-query.js';
export * from './encode-response.js';
export * from './encode-query.js';
export * from './decode-message.js';
export * from './rdata-cursor.js';
export * from './listeners.js';
export * from './batched-udp.js';
