/**
 * Client addresses as numbers, read from the socket's text without allocating: four 32-bit words
 * (an IPv4 address in the first word), masked to the prefix a token is kept for. Also the CIDR
 * blocks of `--rrl-exempt`, read once at start-up.
 */

/** 4 for IPv4, 6 for IPv6, 0 when the text is no address. */
export type AddressFamily = 0 | 4 | 6;

const groups = new Uint16Array(8);

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Dotted-quad text from `start` to `end` into `out[at]`; false if it is none. (Not returned as a
 * number: most addresses are above 2^30, which V8 would box in a heap number per call.)
 */
function readIpv4(text: string, start: number, end: number, out: Uint32Array | Uint16Array, at: number): boolean {
  let value = 0;
  let octet = -1;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2e) {
      if (octet < 0 || dots === 3) return false;
      value = value * 256 + octet;
      octet = -1;
      dots++;
    } else if (code >= 0x30 && code <= 0x39) {
      octet = octet < 0 ? code - 0x30 : octet * 10 + code - 0x30;
      if (octet > 255) return false;
    } else return false;
  }
  if (octet < 0 || dots !== 3) return false;
  if (out instanceof Uint32Array) out[at] = value * 256 + octet;
  else {
    out[at] = value >>> 8;
    out[at + 1] = ((value & 0xff) << 8) | octet;
  }
  return true;
}

/**
 * Reads an address as a socket reports it (`192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1`,
 * `fe80::1%eth0`) into `out`; an IPv4-mapped IPv6 address counts as IPv4.
 */
export function readAddress(text: string, out: Uint32Array): AddressFamily {
  let end = text.length;
  const zoneIndex = text.indexOf('%');
  if (zoneIndex !== -1) end = zoneIndex;
  if (text.indexOf(':') === -1) {
    if (!readIpv4(text, 0, end, out, 0)) return 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    return 4;
  }
  let count = 0;
  let gapAt = -1;
  let i = 0;
  if (end >= 2 && text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return 0;
    gapAt = 0;
    i = 2;
  }
  while (i < end) {
    if (count === 8) return 0;
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0) break;
      value = value * 16 + digit;
      digits++;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 0x2e) {
      // The last 32 bits written as IPv4 (`::ffff:192.0.2.1`).
      if (count > 6 || !readIpv4(text, groupStart, end, groups, count)) return 0;
      count += 2;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4) return 0;
    groups[count++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 0x3a) return 0;
    i++;
    if (i < end && text.charCodeAt(i) === 0x3a) {
      if (gapAt !== -1) return 0;
      gapAt = count;
      i++;
    } else if (i === end) return 0;
  }
  if (gapAt === -1 ? count !== 8 : count > 7) return 0;
  if (gapAt !== -1) {
    const move = count - gapAt;
    for (let k = 0; k < move; k++) groups[7 - k] = groups[count - 1 - k]!;
    for (let k = gapAt; k < 8 - move; k++) groups[k] = 0;
  }
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    out[0] = ((groups[6]! << 16) | groups[7]!) >>> 0;
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    return 4;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return 6;
}

/** Keeps the first `bits` bits of the address in `words` (IPv4 uses the first word only). */
export function maskAddress(words: Uint32Array, bits: number): void {
  for (let w = 0; w < 4; w++) {
    const keep = bits - w * 32;
    if (keep >= 32) continue;
    words[w] = keep <= 0 ? 0 : (words[w]! & (0xffffffff << (32 - keep))) >>> 0;
  }
}

/** The masked address as text: `192.0.2.0/24`, `2001:db8:0:100::/56`. */
export function formatPrefix(family: 4 | 6, words: Uint32Array, bits: number): string {
  if (family === 4) {
    const v = words[0]!;
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}/${bits}`;
  }
  const parts: string[] = [];
  for (let w = 0; w < 4; w++) parts.push((words[w]! >>> 16).toString(16), (words[w]! & 0xffff).toString(16));
  // The longest run of zero groups becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (parts[start] !== '0') {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && parts[end] === '0') end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const text = bestStart === -1 ? parts.join(':') : `${parts.slice(0, bestStart).join(':')}::${parts.slice(bestStart + bestLength).join(':')}`;
  return `${text}/${bits}`;
}

/** A block of addresses: `--rrl-exempt 192.0.2.0/24`. */
export interface AddressBlock {
  family: 4 | 6;
  words: Uint32Array;
  bits: number;
  text: string;
}

/** Reads `ADDRESS[/BITS]`; a bare address is a block of one. Throws a message an operator can act on. */
export function parseAddressBlock(text: string): AddressBlock {
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  const family = readAddress(addressText, words);
  if (family === 0 || addressText.includes('%')) throw new Error(`"${text}" is not an address block (ADDRESS or ADDRESS/BITS, e.g. 192.0.2.0/24 or 2001:db8::/32)`);
  const widest = family === 4 ? 32 : 128;
  const bits = slash === -1 ? widest : Number(text.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > widest || text.slice(slash + 1).trim() === '') {
    throw new Error(`"${text}": the prefix length must be a whole number from 0 to ${widest}`);
  }
  maskAddress(words, bits);
  return { family, words, bits, text: formatPrefix(family, words, bits) };
}

/** Whether an address (as `readAddress` left it) lies in the block. */
export function blockContains(block: AddressBlock, family: 4 | 6, words: Uint32Array): boolean {
  if (block.family !== family) return false;
  for (let w = 0; w < 4; w++) {
    const keep = block.bits - w * 32;
    if (keep <= 0) return true;
    const mask = keep >= 32 ? 0xffffffff : 0xffffffff << (32 - keep);
    if (((words[w]! & mask) >>> 0) !== block.words[w]) return false;
  }
  return true;
}
