/**
 * A request as the decoder yields it and the rest of the query path reads it: the `Query` (its
 * question, EDNS with Client Subnet and COOKIE as offsets into the packet, a TSIG's place, the
 * server cookie the response will carry), or the `Rejection` a malformed one gets, or a drop.
 */

export type Transport = 'udp' | 'tcp';

/** EDNS Client Subnet option as the client sent it (RFC 7871 §6). */
export interface ClientSubnet {
  family: 4 | 6;
  sourcePrefix: number;
  /** The address in text form, bits beyond the source prefix zero. */
  address: string;
  /**
   * The ADDRESS field exactly as sent is bytes [addressAt, addressAt + addressLength) of the
   * request packet (addressLength = ceil(sourcePrefix / 8)), echoed in the answer from there.
   */
  addressAt: number;
  addressLength: number;
}

/** The OPT pseudo-record of a request (RFC 6891). */
export interface Edns {
  udpPayloadSize: number;
  version: number;
  dnssecOk: boolean;
  clientSubnet: ClientSubnet | null;
  nsidRequested: boolean;
  /**
   * The COOKIE option (RFC 7873 §4) as offsets into the packet, so reading it allocates nothing:
   * its data starts at `cookieAt` (-1: no cookie) and is `cookieLength` bytes, 8 (a client cookie)
   * or 16 to 40 (a client cookie and a server cookie).
   */
  cookieAt: number;
  cookieLength: number;
}

/** Where a request's TSIG record sits in the packet (RFC 8945 §4.2), for the BADKEY answer. */
export interface TsigRecord {
  /** The owner (the key name), [ownerStart, ownerEnd). */
  ownerStart: number;
  ownerEnd: number;
  /** The algorithm name, [rdataStart, algorithmEnd), then Time Signed and Fudge (8 bytes). */
  rdataStart: number;
  algorithmEnd: number;
}

export interface Query {
  id: number;
  /** The request's flags word; the answer copies opcode, RD and CD from it. */
  requestFlags: number;
  /** Lower-cased name without the final dot ("" for the root). */
  lowerName: string;
  type: number;
  qclass: number;
  /** The raw request; bytes 12..questionEnd are the question, echoed with its case intact. */
  packet: Buffer;
  questionEnd: number;
  edns: Edns | null;
  /** A TSIG record; no key is configured, so it is answered NOTAUTH/BADKEY. */
  tsig: TsigRecord | null;
  transport: Transport;
  /**
   * The server cookie the response carries beside the client's cookie, set by the cookie check
   * (src/cookies) before the response is written; null (as decoded) sends no COOKIE option.
   */
  serverCookie: Buffer | null;
}

export type DropReason = 'short' | 'response';

/** A request that gets only a header (and the question and OPT where they could be read). */
export interface Rejection {
  rcode: number;
  id: number;
  requestFlags: number;
  packet: Buffer;
  /** 0 when the question could not be read, so none is echoed. */
  questionEnd: number;
  edns: Edns | null;
}

export type DecodeResult =
  | { kind: 'query'; query: Query }
  | { kind: 'reject'; rejection: Rejection }
  | { kind: 'drop'; reason: DropReason };
