/**
 * cookies/: DNS cookies (RFC 7873) with RFC 9018 server cookies. Owns the SipHash-2-4 hash, the
 * cookie check each query goes through (`ServerCookies.check`: the query's `CookieState`, the
 * server cookie its response carries, the per-state counters), the secrets (file, rotation,
 * random) and the coarse clock it reads. It never allocates, logs or reads a clock on the query
 * path; the COOKIE option's bytes are read and written by wire/ (decode-query, encode-response).
 */
export * from './server-cookies.js';
export * from './cookie-secrets.js';
export * from './start-cookies.js';
export { sipHash24, sipKey, SIP_KEY_BYTES } from './siphash.js';
export { writePeerAddress } from './peer-address-bytes.js';
