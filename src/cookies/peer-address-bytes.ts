/**
 * The client's address as the bytes RFC 9018 hashes (4 for IPv4, 16 for IPv6), read from the
 * socket's text form without allocating by wire's `readAddress` (the one address parser):
 * "192.0.2.1", "2001:db8::1", an IPv4-mapped "::ffff:192.0.2.1" (hashed as the IPv4 address it
 * is, as the rest of Meridian treats it) and a link-local "fe80::1%eth0" (the zone index left out).
 */
import { readAddress } from '../wire/index.js';

const words = new Uint32Array(4);

/** Writes the address's bytes at out[at]; returns how many (4 or 16), or 0 for text that is no address. */
export function writePeerAddress(peer: string, out: Uint8Array, at: number): number {
  const family = readAddress(peer, words);
  if (family === 0) return 0;
  const count = family === 4 ? 1 : 4;
  for (let w = 0; w < count; w++) {
    const word = words[w]!;
    out[at + 4 * w] = word >>> 24;
    out[at + 4 * w + 1] = (word >>> 16) & 0xff;
    out[at + 4 * w + 2] = (word >>> 8) & 0xff;
    out[at + 4 * w + 3] = word & 0xff;
  }
  return count * 4;
}
