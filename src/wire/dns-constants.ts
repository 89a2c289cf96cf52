/** DNS numbers used by Meridian, named as the RFCs name them. */

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  TLSA: 52,
  SVCB: 64,
  HTTPS: 65,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
  // DNSSEC's own records (src/dnssec): denial, keys, and the keys offered to the parent (RFC 8078).
  NSEC: 47,
  /** RFC 9824: a meta-type, only ever in a compact denial's NSEC bitmap; asking for it is FORMERR. */
  NXNAME: 128,
  DNSKEY: 48,
  CDS: 59,
  CDNSKEY: 60,
} as const;
export type RRTypeName = keyof typeof RRType;

const typeNames = new Map<number, string>(Object.entries(RRType).map(([name, code]) => [code, name]));
/** Presentation name of a type code ("TYPE65280" for unknown ones, as RFC 3597 writes them). */
export function rrTypeName(code: number): string {
  return typeNames.get(code) ?? `TYPE${code}`;
}

/** Numeric code of a type name such as "AAAA" or "TYPE65280"; undefined when not a type. */
export function rrTypeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = (RRType as Record<string, number>)[upper];
  if (known !== undefined) return known;
  const generic = /^TYPE(\d{1,5})$/.exec(upper);
  if (generic) {
    const code = Number(generic[1]);
    if (code <= 0xffff) return code;
  }
  return undefined;
}

export const RRClass = { IN: 1, CH: 3, NONE: 254, ANY: 255 } as const;

const classNames = new Map<number, string>(Object.entries(RRClass).map(([name, code]) => [code, name]));
/** Presentation name of a class code ("CLASS7" for unknown ones, RFC 3597). */
export function rrClassName(code: number): string {
  return classNames.get(code) ?? `CLASS${code}`;
}

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** RFC 8945 §5.2: the answer to a TSIG the server cannot verify. */
  NOTAUTH: 9,
  /** Extended rcode 16 (RFC 6891 §9): its upper bits travel in the OPT record. */
  BADVERS: 16,
  /** Extended rcode 23 (RFC 7873 §8): the server cookie was missing or invalid; retry with the one sent. */
  BADCOOKIE: 23,
} as const;
export type RcodeValue = (typeof Rcode)[keyof typeof Rcode];

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([name, code]) => [code, name]));
/** Presentation name of an rcode. */
export function rcodeName(code: number): string {
  return rcodeNames.get(code) ?? `RCODE${code}`;
}

/** The TSIG RR's own error field (RFC 8945 §5.2.2). */
export const TsigError = { BADKEY: 17 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;
/** Where the 4-bit opcode sits in the flags word. */
export const OPCODE_MASK = 0x7800;
export const OPCODE_SHIFT = 11;

export const EdnsOption = {
  NSID: 3,
  CLIENT_SUBNET: 8,
  COOKIE: 10,
} as const;

/** RFC 7871 §6: the FAMILY field of a Client Subnet option (IANA address family numbers). */
export const EcsFamily = { IPV4: 1, IPV6: 2 } as const;

/** Owner (the root), TYPE, CLASS, TTL and RDLENGTH of an OPT record: the bytes before its options. */
export const OPT_FIXED_SIZE = 11;
/** RFC 3225: the DO bit in the 16-bit OPT flags field. */
export const DO_BIT = 0x8000;

/** Header flag bits in the 16-bit flags word. */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  /** The reserved bit, 0 in every message. */
  Z: 0x0040,
  AD: 0x0020,
  CD: 0x0010,
} as const;

/** Size of the DNS header. */
export const HEADER_SIZE = 12;
/** The UDP payload size Meridian advertises and honours at most (DNS flag day 2020). */
export const SERVER_UDP_PAYLOAD = 1232;
/** RFC 1035 §4.2.1: the UDP limit for clients without EDNS. */
export const CLASSIC_UDP_LIMIT = 512;
/** RFC 1035 §4.2.2: the 2-byte length prefix bounds a TCP message. */
export const TCP_MESSAGE_LIMIT = 65535;
