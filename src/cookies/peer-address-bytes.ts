/**
 * The client's address as the bytes RFC 9018 hashes (4 for IPv4, 16 for IPv6), read from the
 * socket's text form without allocating: "192.0.2.1", "2001:db8::1", an IPv4-mapped
 * "::ffff:192.0.2.1" (hashed as the IPv4 address it is, as the rest of Meridian treats it) and a
 * link-local "fe80::1%eth0" (the zone index left out).
 */

const COLON = 0x3a;
const DOT = 0x2e;
const PERCENT = 0x25;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  return -1;
}

/** Dotted quad text[start, end) into out[at..at+4]; false when it is not one. */
function writeIPv4(text: string, start: number, end: number, out: Uint8Array, at: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const code = i === end ? DOT : text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || value > 255 || part > 3) return false;
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39 && digits < 3) {
      value = value * 10 + code - 0x30;
      digits++;
    } else return false;
  }
  return part === 4;
}

/** IPv6 text into out[at..at+16]; returns 16, or 4 for an IPv4-mapped address, or 0. */
function writeIPv6(text: string, end: number, out: Uint8Array, at: number): number {
  // Groups are written from the front; after "::" they are collected and moved to the back.
  let written = 0;
  let gapAt = -1;
  let value = 0;
  let digits = 0;
  let groupStart = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === COLON) {
      if (i + 1 < end && text.charCodeAt(i + 1) === COLON) {
        if (gapAt !== -1) return 0;
        if (digits > 0) {
          if (written >= 16) return 0;
          out[at + written++] = value >> 8;
          out[at + written++] = value & 0xff;
        }
        gapAt = written;
        i++;
      } else {
        if (digits === 0 || written >= 16) return 0;
        out[at + written++] = value >> 8;
        out[at + written++] = value & 0xff;
      }
      value = 0;
      digits = 0;
      groupStart = i + 1;
    } else if (code === DOT) {
      // An embedded IPv4 address ends the text: its four bytes are the last two groups.
      if (written > 12 || !writeIPv4(text, groupStart, end, out, at + written)) return 0;
      written += 4;
      digits = 0;
      break;
    } else {
      const nibble = hexValue(code);
      if (nibble < 0 || digits === 4) return 0;
      value = (value << 4) | nibble;
      digits++;
    }
  }
  if (digits > 0) {
    if (written >= 16) return 0;
    out[at + written++] = value >> 8;
    out[at + written++] = value & 0xff;
  }
  if (gapAt === -1) {
    if (written !== 16) return 0;
  } else {
    if (written > 14) return 0;
    const tail = written - gapAt;
    for (let i = tail - 1; i >= 0; i--) out[at + 16 - tail + i] = out[at + gapAt + i]!;
    for (let i = gapAt; i < 16 - tail; i++) out[at + i] = 0;
  }
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d.
  for (let i = 0; i < 10; i++) if (out[at + i] !== 0) return 16;
  if (out[at + 10] !== 0xff || out[at + 11] !== 0xff) return 16;
  for (let i = 0; i < 4; i++) out[at + i] = out[at + 12 + i]!;
  return 4;
}

/** Writes the address's bytes at out[at]; returns how many (4 or 16), or 0 for text that is no address. */
export function writePeerAddress(peer: string, out: Uint8Array, at: number): number {
  let end = peer.length;
  let colon = false;
  for (let i = 0; i < end; i++) {
    const code = peer.charCodeAt(i);
    if (code === COLON) colon = true;
    else if (code === PERCENT) end = i;
  }
  if (!colon) return writeIPv4(peer, 0, end, out, at) ? 4 : 0;
  return writeIPv6(peer, end, out, at);
}
