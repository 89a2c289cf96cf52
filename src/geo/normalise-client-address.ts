// geo/: a client address as the locator takes it: its family, and IPv4-mapped IPv6 turned back into IPv4.

import { isIP, isIPv4 } from 'node:net';

/** A client address ready for `GeoLocator.locate`. */
export interface NormalisedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

const HEX_PAIR = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;
const LONG_MAPPED_PREFIX = /^(?:0{1,4}:){5}ffff:/;

/**
 * Classifies an IP literal and maps IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket
 * reports IPv4 clients) to plain IPv4; throws a TypeError for anything that is not an IP literal.
 */
export function normaliseClientAddress(ip: string): NormalisedAddress {
  const family = isIP(ip);
  if (family === 4) return { address: ip, family: 4 };
  if (family !== 6) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  const v4 = ipv4FromMapped(ip);
  // Databases without the ::ffff:0:0/96 alias (the flat one) miss mapped addresses, hence IPv4.
  return v4 === undefined ? { address: ip, family: 6 } : { address: v4, family: 4 };
}

function ipv4FromMapped(ip: string): string | undefined {
  const lower = ip.toLowerCase();
  let rest: string;
  if (lower.startsWith('::ffff:')) rest = lower.slice(7);
  else {
    const long = LONG_MAPPED_PREFIX.exec(lower);
    if (long === null) return undefined;
    rest = lower.slice(long[0].length);
  }
  if (isIPv4(rest)) return rest;
  const hex = HEX_PAIR.exec(rest);
  if (hex === null) return undefined;
  const hi = parseInt(hex[1] as string, 16);
  const lo = parseInt(hex[2] as string, 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
