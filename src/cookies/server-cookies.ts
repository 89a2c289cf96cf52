/**
 * DNS cookies on the query path (RFC 7873), with server cookies in RFC 9018's interoperable form:
 * Version (1) | Reserved (3 zero bytes) | Timestamp (4, seconds) | Hash (8), where Hash is
 * SipHash-2-4 over Client Cookie | Version | Reserved | Timestamp | Client IP under a 16-byte
 * secret. Every server of a fleet given the same secret accepts the others' cookies (Knot's
 * mod-cookies included). Allocation-free: one scratch for the hash input, one for the cookie sent.
 */
import type { Query } from '../wire/index.js';
import { sipHash24, sipKey, SIP_HASH_BYTES, type SipKey } from './siphash.js';
import { writePeerAddress } from './peer-address-bytes.js';

/**
 * What a query proved about itself with its cookies; the one per-query result other parts (rate
 * limiting) read. An invalid or expired server cookie counts as CLIENT_ONLY (RFC 7873 §5.2.3: the
 * server treats it as if only the client cookie were there).
 */
export const CookieState = {
  /** No COOKIE option (or cookies are off). */
  NONE: 0,
  /** A client cookie, and no server cookie or one that is not valid: the source may be spoofed. */
  CLIENT_ONLY: 1,
  /** A server cookie this server (or its fleet) made for this client address, within its lifetime. */
  VALID: 2,
} as const;
export type CookieState = (typeof CookieState)[keyof typeof CookieState];

/** The secret a server cookie is made with, and the one before it (still accepted during a rotation). */
export interface CookieSecrets {
  current: Buffer;
  previous: Buffer | null;
}

/** Queries by what their COOKIE option held: plain numbers, read at scrape time. */
export interface CookieCounters {
  cookiesNone: number;
  cookiesClientOnly: number;
  cookiesValid: number;
  /** A server cookie was sent but was not valid (wrong hash, another secret, expired, unknown format). */
  cookiesInvalid: number;
}

/** RFC 9018 §4.3: a server cookie is valid for an hour and may be up to 5 minutes in the future. */
export const COOKIE_LIFETIME_SECONDS = 3600;
export const COOKIE_FUTURE_SECONDS = 300;
/** RFC 9018 §4.3: a valid cookie older than half an hour is replaced by a fresh one. */
export const COOKIE_REFRESH_SECONDS = 1800;

const CLIENT_COOKIE_BYTES = 8;
/** Version, Reserved, Timestamp, Hash. */
export const SERVER_COOKIE_BYTES = 16;
const VERSION = 1;
/** Hash input: client cookie (8), version, reserved and timestamp (8), client IP (4 or 16). */
const META_AT = CLIENT_COOKIE_BYTES;
const ADDRESS_AT = META_AT + 8;

export class ServerCookies {
  readonly counters: CookieCounters = { cookiesNone: 0, cookiesClientOnly: 0, cookiesValid: 0, cookiesInvalid: 0 };
  private readonly current: SipKey;
  private readonly previous: SipKey | null;
  private readonly input = Buffer.alloc(ADDRESS_AT + 16);
  private readonly hash = Buffer.alloc(SIP_HASH_BYTES);
  /** The server cookie of the response being built; the encoder copies it before the next query. */
  private readonly outgoing = Buffer.alloc(SERVER_COOKIE_BYTES);

  /** `nowSeconds`: the time in whole seconds (Unix time; serial-number arithmetic handles wrap). */
  constructor(
    secrets: CookieSecrets,
    private readonly nowSeconds: () => number,
  ) {
    this.current = sipKey(secrets.current);
    this.previous = secrets.previous === null ? null : sipKey(secrets.previous);
  }

  /**
   * Judges the query's cookies (from `peer`, the socket's address, never the ECS subnet) and sets
   * `query.serverCookie` to the server cookie its response carries: the one it sent while valid
   * and younger than half an hour, else a fresh one. Counts the query by what it held.
   */
  check(query: Query, peer: string): CookieState {
    const edns = query.edns;
    if (edns === null || edns.cookieAt < 0) {
      this.counters.cookiesNone++;
      return CookieState.NONE;
    }
    const packet = query.packet;
    const at = edns.cookieAt;
    const input = this.input;
    for (let i = 0; i < CLIENT_COOKIE_BYTES; i++) input[i] = packet[at + i]!;
    const addressLength = writePeerAddress(peer, input, ADDRESS_AT);
    const inputEnd = ADDRESS_AT + addressLength;
    const now = this.nowSeconds();
    if (edns.cookieLength === CLIENT_COOKIE_BYTES) {
      this.counters.cookiesClientOnly++;
      this.fresh(query, inputEnd, now);
      return CookieState.CLIENT_ONLY;
    }
    const server = at + CLIENT_COOKIE_BYTES;
    if (edns.cookieLength === CLIENT_COOKIE_BYTES + SERVER_COOKIE_BYTES && packet[server] === VERSION && packet[server + 1] === 0 && packet[server + 2] === 0 && packet[server + 3] === 0) {
      const timestamp = packet.readUInt32BE(server + 4);
      // RFC 1982 serial-number arithmetic: the age as a signed 32-bit difference.
      const age = (now - timestamp) | 0;
      if (age <= COOKIE_LIFETIME_SECONDS && age >= -COOKIE_FUTURE_SECONDS) {
        for (let i = 0; i < 8; i++) input[META_AT + i] = packet[server + i]!;
        const hashAt = server + 8;
        const byCurrent = this.hashMatches(this.current, inputEnd, packet, hashAt);
        if (byCurrent || (this.previous !== null && this.hashMatches(this.previous, inputEnd, packet, hashAt))) {
          this.counters.cookiesValid++;
          // A cookie of the previous secret is replaced at once, so clients move to the new one.
          if (byCurrent && age <= COOKIE_REFRESH_SECONDS) {
            const outgoing = this.outgoing;
            for (let i = 0; i < SERVER_COOKIE_BYTES; i++) outgoing[i] = packet[server + i]!;
            query.serverCookie = outgoing;
          } else this.fresh(query, inputEnd, now);
          return CookieState.VALID;
        }
      }
    }
    this.counters.cookiesInvalid++;
    this.fresh(query, inputEnd, now);
    return CookieState.CLIENT_ONLY;
  }

  /** Sets a server cookie made now as the response's. */
  private fresh(query: Query, inputEnd: number, now: number): void {
    const input = this.input;
    const outgoing = this.outgoing;
    input[META_AT] = VERSION;
    input[META_AT + 1] = 0;
    input[META_AT + 2] = 0;
    input[META_AT + 3] = 0;
    input.writeUInt32BE(now >>> 0, META_AT + 4);
    for (let i = 0; i < 8; i++) outgoing[i] = input[META_AT + i]!;
    sipHash24(this.current, input, 0, inputEnd, outgoing, 8);
    query.serverCookie = outgoing;
  }

  private hashMatches(key: SipKey, inputEnd: number, packet: Buffer, hashAt: number): boolean {
    const hash = this.hash;
    sipHash24(key, this.input, 0, inputEnd, hash, 0);
    // Not constant time: the hash is short-lived and bound to the client's address and time.
    for (let i = 0; i < SIP_HASH_BYTES; i++) if (hash[i] !== packet[hashAt + i]) return false;
    return true;
  }
}
