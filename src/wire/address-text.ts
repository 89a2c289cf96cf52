/**
 * IP addresses between wire bytes and text, for the message codec (A/AAAA RDATA, the Client
 * Subnet option). Text out is what dig prints: dotted quad, and RFC 5952 for IPv6 (lower case,
 * the longest run of zero groups as "::", IPv4-mapped addresses in dotted form).
 */
import { isIP } from 'node:net';

/** Four bytes from `offset` as a dotted quad. */
export function ipv4Text(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Sixteen bytes from `offset` in RFC 5952 form. */
export function ipv6Text(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[offset + i]! << 8) | bytes[offset + i + 1]!);
  // RFC 5952 §5: ::ffff:0:0/96 is written with its IPv4 part dotted.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4Text(bytes, offset + 12)}`;
  // §4.2: the longest run of two or more zero groups (the first on a tie) becomes "::".
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The 4 or 16 bytes of an address in text form; throws RangeError for anything else. */
export function addressBytes(address: string): Buffer {
  const family = isIP(address);
  if (family === 4) return Buffer.from(address.split('.').map(Number));
  if (family !== 6) throw new RangeError(`not an IP address: ${address}`);
  let text = address;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...addressBytes(dotted[1]!));
    text = `${text.slice(0, dotted.index)}:0:0`; // two placeholder groups, replaced below
  }
  const [head = '', rest] = text.split('::');
  const split = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = split(head);
  const right = rest === undefined ? [] : split(rest);
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  if (tail.length === 4) out.set(tail, 12);
  return out;
}
