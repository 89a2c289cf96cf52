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

/** An IP address as 32 or 128 bits. */
export function addressBits(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
  const [head = '', tail] = canonicalAddress(address, 6).split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  let bits = 0n;
  for (const group of groups) {
    if (group.includes('.')) {
      // an embedded IPv4 tail (::ffff:1.2.3.4) is two groups
      bits = (bits << 32n) | addressBits(group, 4);
    } else bits = (bits << 16n) | BigInt(parseInt(group, 16));
  }
  return bits;
}
