/**
 * Reading one record's RDATA out of a whole message, for presentation. Names inside RDATA may be
 * compressed and point anywhere earlier in the message, so the cursor holds the whole message and
 * reads names with `readName`. What each type's fields mean is not known here: the record types
 * in src/records present their RDATA through this cursor (`RDataPresenter`); a type without a
 * presenter is written in the generic form of RFC 3597 (`\# LENGTH HEX`).
 */
import { readName } from './names.js';

/** RDATA that does not match its type's layout. */
export class RDataError extends Error {}

/** Reads RDATA fields in order. Every read past the RDATA's end throws RDataError. */
export interface RDataCursor {
  u8(): number;
  u16(): number;
  u32(): number;
  bytes(length: number): Buffer;
  /** A domain name (compression pointers followed), presentation form with the final dot. */
  name(): string;
  /** Bytes of RDATA not read yet. */
  readonly remaining: number;
}

/**
 * Presents the RDATA of a record of type `typeCode` as dig prints it, reading all of it, or
 * returns undefined for a type it does not know.
 */
export type RDataPresenter = (typeCode: number, rdata: RDataCursor) => string | undefined;

export class MessageRDataCursor implements RDataCursor {
  private offset: number;

  constructor(
    private readonly message: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.offset = start;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private take(length: number): number {
    if (length > this.end - this.offset) throw new RDataError(`RDATA ends before a ${length}-byte field`);
    this.offset += length;
    return this.offset - length;
  }

  u8(): number {
    return this.message[this.take(1)]!;
  }

  u16(): number {
    return this.message.readUInt16BE(this.take(2));
  }

  u32(): number {
    return this.message.readUInt32BE(this.take(4));
  }

  bytes(length: number): Buffer {
    const at = this.take(length);
    return this.message.subarray(at, at + length);
  }

  name(): string {
    const read = readName(this.message, this.offset);
    if (typeof read === 'string') throw new RDataError(`bad name in RDATA (${read})`);
    if (read.end > this.end) throw new RDataError('a name runs past RDATA');
    this.offset = read.end;
    return read.name;
  }
}

/**
 * The RDATA at message[start, start + length) in presentation form: by `present` when it knows
 * the type, else in the generic form. Throws RDataError when the bytes do not fit the layout
 * `present` reads, or when it leaves bytes unread.
 */
export function presentRDataOf(typeCode: number, message: Buffer, start: number, length: number, present: RDataPresenter): string {
  const cursor = new MessageRDataCursor(message, start, start + length);
  const text = present(typeCode, cursor);
  if (text === undefined) return genericRData(message.subarray(start, start + length));
  if (cursor.remaining !== 0) throw new RDataError(`${cursor.remaining} bytes left over in RDATA`);
  return text;
}

/** The generic form of RFC 3597 §5, for types without a presentation of their own. */
export function genericRData(rdata: Buffer): string {
  return rdata.length === 0 ? '\\# 0' : `\\# ${rdata.length} ${rdata.toString('hex').toUpperCase()}`;
}

/** A <character-string> as dig prints it: quoted, `"` and `\` escaped, other bytes as \DDD. */
export function presentCharacterString(bytes: Uint8Array): string {
  let out = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}
