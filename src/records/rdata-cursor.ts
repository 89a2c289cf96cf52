/**
 * records/rdata-cursor: reads one record's RDATA out of a whole DNS message (names may point
 * anywhere in it), for the record types' presentation.
 */
import type { RDataCursor } from './record-type.js';

export class MessageRDataCursor implements RDataCursor {
  private at: number;

  constructor(
    private readonly message: Buffer,
    rdataOffset: number,
    private readonly end: number,
  ) {
    this.at = rdataOffset;
  }

  /** Where the next read starts, in the message. */
  get offset(): number {
    return this.at;
  }

  get remaining(): number {
    return this.end - this.at;
  }

  private take(length: number): number {
    if (length > this.end - this.at) throw new RangeError('RDATA ends early');
    const start = this.at;
    this.at += length;
    return start;
  }

  u8(): number {
    return this.message.readUInt8(this.take(1));
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
    const labels: string[] = [];
    let at = this.at;
    let next: number | null = null;
    for (let hops = 0; ; ) {
      const length = this.message[at];
      if (length === undefined) throw new RangeError('name runs past the message');
      if (length >= 0xc0) {
        // A pointer ends the name here; only backward pointers, so a loop cannot run forever.
        const target = ((length & 0x3f) << 8) | (this.message[at + 1] ?? 0);
        next ??= at + 2;
        if (target >= at || ++hops > 64) throw new RangeError('bad compression pointer');
        at = target;
        continue;
      }
      if (length === 0) {
        next ??= at + 1;
        break;
      }
      labels.push(this.message.toString('latin1', at + 1, at + 1 + length));
      at += 1 + length;
    }
    this.take(next - this.at);
    return labels.length === 0 ? '.' : `${labels.join('.')}.`;
  }
}

/** A <character-string> as dig prints it: quoted, `"` and `\` escaped, other bytes as \DDD. */
export function presentString(bytes: Buffer): string {
  let out = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}
