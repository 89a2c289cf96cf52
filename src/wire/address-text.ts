/**
 * IP addresses between text and binary: the one parser and the one printer of address text.
 * Text in is read without allocating into four 32-bit words (`readAddressWords`; an IPv4 address
 * in the first word), the form the query path uses (rate limiting, cookies, network rules).
 * Text out is RFC 5952 for IPv6 (lower case, the first longest run of two or more zero groups as
 * "::"): with IPv4-mapped addresses dotted, as dig prints them (`ipv6Text`, for the message
 * codec), or in hex groups, as the URL parser prints them (`canonicalAddress`, `formatPrefix`:
 * the zone format's canonical form, which health's probe keys must equal).
 */
import { isIP } from 'node:net';

/** 4 for IPv4, 6 for IPv6, 0 when the text is no address. */
export type AddressFamily = 0 | 4 | 6;

const groups = new Uint16Array(8);
const scratch = new Uint32Array(4);

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
 * Reads address text as a socket reports it or a zone writes it (`192.0.2.1`, `2001:db8::1`,
 * `::ffff:192.0.2.1`, `fe80::1%eth0`: the zone index left out) into `out`, IPv4 in the first
 * word and the rest zeroed; an IPv4-mapped address stays IPv6. Never throws, never allocates.
 */
export function readAddressWords(text: string, out: Uint32Array): AddressFamily {
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
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return 6;
}

/** Whether IPv6 words hold an IPv4-mapped address (::ffff:0:0/96). */
function isIpv4Mapped(words: Uint32Array): boolean {
  return words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
}

/** As `readAddressWords`, but an IPv4-mapped IPv6 address counts as IPv4 (the socket's client). */
export function readAddress(text: string, out: Uint32Array): AddressFamily {
  const family = readAddressWords(text, out);
  if (family !== 6 || !isIpv4Mapped(out)) return family;
  out[0] = out[3]!;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  return 4;
}

/**
 * An IP address of the given family as 32 or 128 bits. It runs on the query path (network
 * rules), so it never throws: a zone index is ignored, and text that is not an address of that
 * family reads as 0.
 */
export function addressBits(address: string, family: 4 | 6): bigint {
  if (readAddressWords(address, scratch) !== family) return 0n;
  return wordsBits(scratch, family);
}

/** Address words (as `readAddressWords` lays them out) as 32 or 128 bits. */
export function wordsBits(words: Uint32Array, family: 4 | 6): bigint {
  if (family === 4) return BigInt(words[0]!);
  return (BigInt(words[0]!) << 96n) | (BigInt(words[1]!) << 64n) | (BigInt(words[2]!) << 32n) | BigInt(words[3]!);
}

/** Dotted quad of one 32-bit word. */
function wordText(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text of four words; an IPv4-mapped address dotted when `dottedMapped`. */
function ipv6WordsText(words: Uint32Array, dottedMapped: boolean): string {
  // RFC 5952 §5: ::ffff:0:0/96 is written with its IPv4 part dotted.
  if (dottedMapped && isIpv4Mapped(words)) return `::ffff:${wordText(words[3]!)}`;
  const hex: string[] = [];
  for (let w = 0; w < 4; w++) hex.push((words[w]! >>> 16).toString(16), (words[w]! & 0xffff).toString(16));
  // §4.2: the longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (hex[start] !== '0') {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && hex[end] === '0') end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** Four bytes from `offset` as a dotted quad. */
export function ipv4Text(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Sixteen bytes from `offset` in RFC 5952 form, as dig prints them (IPv4-mapped dotted). */
export function ipv6Text(bytes: Uint8Array, offset = 0): string {
  const words = new Uint32Array(4);
  for (let w = 0; w < 4; w++) {
    const at = offset + 4 * w;
    words[w] = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
  }
  return ipv6WordsText(words, true);
}

/**
 * RFC 5952 text of IPv6 words as Node reports a socket's peer (`rinfo.address`: libuv's inet_ntop):
 * IPv4-mapped addresses dotted (`::ffff:192.0.2.1`), and so are the deprecated IPv4-compatible ones
 * (RFC 4291 §2.5.5.1: the first 96 bits zero, the next 16 not, `::192.0.2.1`), which `ipv6Text` prints in hex.
 */
export function peerIpv6Text(words: Uint32Array): string {
  if (words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3]! >>> 16 !== 0) return `::${wordText(words[3]!)}`;
  return ipv6WordsText(words, true);
}

/**
 * Canonical text of an IP address of the given family, as the zone format keeps it: IPv4 as
 * written, IPv6 as the URL parser prints it (IPv4-mapped in hex groups). Throws a RangeError for
 * text that is not an address of that family or carries a zone index.
 */
export function canonicalAddress(address: string, family: 4 | 6): string {
  const words = new Uint32Array(4);
  if (address.includes('%') || readAddressWords(address, words) !== family) throw new RangeError(`not an IPv${family} address: ${address}`);
  return family === 4 ? address : ipv6WordsText(words, false);
}

/** The masked address in `words` as a block: `192.0.2.0/24`, `2001:db8:0:100::/56`. */
export function formatPrefix(family: 4 | 6, words: Uint32Array, bits: number): string {
  return `${family === 4 ? wordText(words[0]!) : ipv6WordsText(words, false)}/${bits}`;
}

/** A block of addresses read from text: `192.0.2.0/24`, `2001:db8::/32`. */
export interface AddressBlock {
  readonly family: 4 | 6;
  /** The network address, masked to `bits`, as `readAddressWords` lays it out. */
  readonly words: Uint32Array;
  readonly bits: number;
  /** Canonical text (`formatPrefix`). */
  readonly text: string;
}

/** Why text is not an address block: not an address (or a zone-indexed one), a prefix length out of range (0 to `widest`), host bits set beyond the prefix. */
export type AddressBlockFault = { readonly fault: 'not-an-address' } | { readonly fault: 'bad-prefix-length'; readonly widest: 32 | 128 } | { readonly fault: 'host-bits-set' };

/**
 * The one reader of `ADDRESS/BITS` text, for zones' `network` rules and `--rrl-exempt`. A bare
 * address is a block of one when `bareAddress` allows it. Host bits beyond the prefix are a fault
 * (`hostBits: 'reject'`: a zone that writes them likely meant another network) or cleared
 * (`'clear'`). An IPv4-mapped address stays IPv6 unless `mappedAsIpv4` (as `readAddress` reads a
 * socket's client). Text Node's `isIP` refuses (an octet with a leading zero, which some tools read as
 * octal) is no address. Returns the block or the fault, for the caller to word for its own operator.
 */
export function readAddressBlock(
  text: string,
  rules: { bareAddress: boolean; hostBits: 'reject' | 'clear'; mappedAsIpv4: boolean },
): AddressBlock | AddressBlockFault {
  const slash = text.indexOf('/');
  if (slash === -1 && !rules.bareAddress) return { fault: 'not-an-address' };
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const words = new Uint32Array(4);
  if (addressText.includes('%') || isIP(addressText) === 0) return { fault: 'not-an-address' };
  const family = rules.mappedAsIpv4 ? readAddress(addressText, words) : readAddressWords(addressText, words);
  if (family === 0) return { fault: 'not-an-address' };
  const widest = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(widest) : text.slice(slash + 1);
  if (!/^\d+$/.test(prefixText) || Number(prefixText) > widest) return { fault: 'bad-prefix-length', widest };
  const bits = Number(prefixText);
  for (let w = 0; w < 4; w++) {
    const keep = bits - w * 32;
    if (keep >= 32) continue;
    const masked = keep <= 0 ? 0 : (words[w]! & (0xffffffff << (32 - keep))) >>> 0;
    if (masked !== words[w] && rules.hostBits === 'reject') return { fault: 'host-bits-set' };
    words[w] = masked;
  }
  return { family, words, bits, text: formatPrefix(family, words, bits) };
}

/** The 4 or 16 bytes of an address in text form; throws RangeError for anything else. */
export function addressBytes(address: string): Buffer {
  const words = new Uint32Array(4);
  const family = isIP(address) === 0 ? 0 : readAddressWords(address, words);
  if (family === 0) throw new RangeError(`not an IP address: ${address}`);
  const out = Buffer.alloc(family === 4 ? 4 : 16);
  for (let w = 0; w < out.length / 4; w++) out.writeUInt32BE(words[w]!, w * 4);
  return out;
}
