/**
 * zones/addresses: IP addresses as the zone format writes them (canonical text) and as routing
 * compares them (bits).
 */

/** Canonical text of an IP address (lower case, IPv6 compressed as node:net prints it). */
export function canonicalAddress(address: string, family: 4 | 6): string {
  if (family === 4) return address;
  // URL's host parser produces the RFC 5952 form.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/**
 * An IP address as 32 or 128 bits. It runs on the query path (network rules), so it never throws:
 * a zone index (`fe80::1%eth0`, as a socket reports a link-local peer) is ignored, and text that is
 * not an address reads as 0.
 */
export function addressBits(address: string, family: 4 | 6): bigint {
  const zoneIndex = address.indexOf('%');
  const text = zoneIndex === -1 ? address : address.slice(0, zoneIndex);
  return (family === 4 ? ipv4Bits(text) : ipv6Bits(text)) ?? 0n;
}

function ipv4Bits(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let bits = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    bits = (bits << 8n) | BigInt(Number(part));
  }
  return bits;
}

function ipv6Bits(text: string): bigint | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  let bits = 0n;
  for (const group of [...head, ...Array<bigint>(halves.length === 2 ? missing : 0).fill(0n), ...tail]) bits = (bits << 16n) | group;
  return bits;
}

/** Colon-separated 16-bit groups; an embedded IPv4 tail (::ffff:1.2.3.4) counts as two. */
function groupsOf(text: string): bigint[] | null {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = ipv4Bits(part);
      if (v4 === null) return null;
      groups.push(v4 >> 16n, v4 & 0xffffn);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) groups.push(BigInt(parseInt(part, 16)));
    else return null;
  }
  return groups;
}
