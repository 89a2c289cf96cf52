/**
 * Names in wire form for records built at compile time (the record types in src/records encode
 * their RDATA), and the owner pointer that makes a pre-encoded record fit any answer.
 */

/** Uncompressed wire form of a domain name given in presentation form without the final dot. */
export function encodeName(name: string): Buffer {
  if (name === '' || name === '.') return Buffer.from([0]);
  const labels = name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad label in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new RangeError(`name too long: ${name}`);
  return out;
}

/** RFC 1035 §4.1.4: a pointer to offset 12, where the echoed question name starts. */
export const OWNER_IS_QNAME = Buffer.from([0xc0, 0x0c]);
