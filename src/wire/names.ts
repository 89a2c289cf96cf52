/**
 * Domain names on the wire (RFC 1035 §3.1, §4.1.4): the one place that knows label lengths,
 * label types, the 255-byte limit and compression pointers. The query decoder skips names with
 * `skipName`; the message decoder reads them with `readName`, which follows pointers only
 * backwards, so a pointer loop cannot run forever; both return BAD_NAME instead of throwing.
 */

/** RFC 1035 §3.1: a name is at most 255 bytes on the wire, its length bytes included. */
export const MAX_NAME_WIRE_LENGTH = 255;
/** RFC 1035 §2.3.4: a label is at most 63 bytes. */
export const MAX_LABEL_LENGTH = 63;
/** The top two bits of a length byte: 00 is a label, 11 a compression pointer. */
const LABEL_TYPE_MASK = 0xc0;
const POINTER_LABEL = 0xc0;
/** The result of a name that cannot be read. */
export const BAD_NAME = -1;

/**
 * Skips a possibly compressed name without following its pointer; returns the offset after
 * it, or BAD_NAME for a name that runs past the end, is too long, has a reserved label type
 * or a pointer to itself or further on (which can only be a loop or garbage).
 */
export function skipName(packet: Buffer, offset: number): number {
  let length = 0;
  while (offset < packet.length) {
    const labelLength = packet[offset]!;
    if (labelLength === 0) return offset + 1;
    const kind = labelLength & LABEL_TYPE_MASK;
    if (kind === POINTER_LABEL) {
      if (offset + 2 > packet.length) return BAD_NAME;
      return (((labelLength & ~LABEL_TYPE_MASK) << 8) | packet[offset + 1]!) < offset ? offset + 2 : BAD_NAME;
    }
    if (kind !== 0) return BAD_NAME; // RFC 6891 §5: the 0x40 extended label type is obsolete
    length += labelLength + 1;
    if (length > MAX_NAME_WIRE_LENGTH) return BAD_NAME;
    offset += labelLength + 1;
  }
  return BAD_NAME;
}

/** A name read from a message: presentation form with the final dot ("." for the root). */
export interface ReadName {
  name: string;
  /** The offset after the name where it started (after its first pointer, if any). */
  end: number;
}

/** Why a name could not be read. */
export type NameError = 'past-end' | 'bad-label-type' | 'too-long' | 'bad-pointer';

/**
 * Reads a possibly compressed name. Each pointer must point before the label it is found at
 * (a message is written front to back, so a forward or self pointer is always malformed), which
 * bounds the walk by the message length without a hop counter.
 */
export function readName(packet: Buffer, offset: number): ReadName | NameError {
  let name = '';
  let end = -1;
  let wireLength = 1;
  let lowestJump = offset;
  for (;;) {
    if (offset >= packet.length) return 'past-end';
    const labelLength = packet[offset]!;
    const kind = labelLength & LABEL_TYPE_MASK;
    if (kind === POINTER_LABEL) {
      if (offset + 1 >= packet.length) return 'past-end';
      const target = ((labelLength & ~LABEL_TYPE_MASK) << 8) | packet[offset + 1]!;
      if (end === -1) end = offset + 2;
      if (target >= lowestJump) return 'bad-pointer';
      lowestJump = target;
      offset = target;
      continue;
    }
    if (kind !== 0) return 'bad-label-type';
    if (labelLength === 0) break;
    if (offset + 1 + labelLength > packet.length) return 'past-end';
    wireLength += labelLength + 1;
    if (wireLength > MAX_NAME_WIRE_LENGTH) return 'too-long';
    name += `${presentLabel(packet, offset + 1, offset + 1 + labelLength)}.`;
    offset += 1 + labelLength;
  }
  return { name: name === '' ? '.' : name, end: end === -1 ? offset + 1 : end };
}

/** A label as dig prints it: "." and "\" escaped, bytes outside printable ASCII as \DDD. */
function presentLabel(packet: Buffer, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) {
    const byte = packet[i]!;
    if (byte === 0x2e || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte <= 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * Uncompressed wire form of a name in presentation form, case kept ("" or "." is the root; a
 * final dot is optional). Throws RangeError for an empty or over-long label or name.
 */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of trimmed.split('.')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > MAX_LABEL_LENGTH) throw new RangeError(`bad label in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > MAX_NAME_WIRE_LENGTH) throw new RangeError(`name too long: ${name}`);
  return out;
}

/** RFC 1035 §4.1.4: a pointer to offset 12, where the echoed question name starts (the owner of most pre-encoded records). */
export const OWNER_IS_QNAME = Buffer.from([0xc0, 0x0c]);
