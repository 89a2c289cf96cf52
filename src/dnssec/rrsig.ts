/**
 * RRSIG records over pre-encoded RRsets (RFC 4034 §3, §6): the RRset in canonical form (owner
 * lower-cased, RDATA sorted as octet strings, duplicates dropped, the original TTL) signed by
 * a key; the record comes out as a tail (TYPE … RDATA) that an owner is put in front of.
 * Also the NSEC record of compact denial (RFC 9824) and its type bitmap.
 */
import { encodeName, RRType, recordTail, tailOf } from '../wire/index.js';
import type { DnssecKey } from './dnskey.js';

/** RFC 9824: the pseudo-type in a compact denial's bitmap saying the name does not exist. */
export const NXNAME_TYPE = 128;

/** Signature inception and expiration, seconds since the epoch. */
export interface SignatureWindow {
  readonly inception: number;
  readonly expiration: number;
}

/** The number of labels of a name, a leading `*` not counted (RFC 4034 §3.1.3). */
function labelCount(name: string): number {
  if (name === '') return 0;
  const labels = name.split('.');
  return labels[0] === '*' ? labels.length - 1 : labels.length;
}

/**
 * The RRSIG tails for the RRset `records` (all of one owner, `owner`, and one type; any owner
 * form), one per key, over its canonical form. `originalTtl` is the TTL the RRset has in the zone
 * (RFC 4034 §3.1.4) when the records carry a lower one (the SOA of a negative answer); the RRSIG
 * record itself takes the records' TTL (§3).
 */
export function signRRset(owner: string, zone: string, records: readonly Buffer[], keys: readonly DnssecKey[], window: SignatureWindow, originalTtl?: number): Buffer[] {
  const tails = records.map(tailOf);
  const type = tails[0]!.readUInt16BE(0);
  const recordTtl = tails[0]!.readUInt32BE(4);
  const ttl = originalTtl ?? recordTtl;
  const rdatas = tails.map((tail) => tail.subarray(10)).sort(Buffer.compare);
  const ownerWire = encodeName(owner.toLowerCase());
  const signerWire = encodeName(zone.toLowerCase());
  const body: Buffer[] = [];
  let previous: Buffer | null = null;
  for (const rdata of rdatas) {
    if (previous !== null && previous.equals(rdata)) continue; // RFC 4034 §6.3: duplicates are dropped
    previous = rdata;
    body.push(ownerWire, recordTail(type, ttl, rdata));
  }
  return keys.map((key) => {
    const prefix = Buffer.allocUnsafe(18 + signerWire.length);
    prefix.writeUInt16BE(type, 0);
    prefix[2] = key.algorithm.code;
    prefix[3] = labelCount(owner);
    prefix.writeUInt32BE(ttl, 4);
    prefix.writeUInt32BE(window.expiration >>> 0, 8);
    prefix.writeUInt32BE(window.inception >>> 0, 12);
    prefix.writeUInt16BE(key.tag, 16);
    signerWire.copy(prefix, 18);
    const signature = key.algorithm.sign(Buffer.concat([prefix, ...body]), key.privateKey);
    return recordTail(RRType.RRSIG, recordTtl, Buffer.concat([prefix, signature]));
  });
}

/** RFC 4034 §4.1.2: the type bitmap, one window block per 256 types in use. */
export function typeBitmap(types: Iterable<number>): Buffer {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const blocks: Buffer[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = sorted[i]! >> 8;
    const bits = Buffer.alloc(32);
    let used = 0;
    for (; i < sorted.length && sorted[i]! >> 8 === window; i++) {
      const low = sorted[i]! & 0xff;
      bits[low >> 3]! |= 0x80 >> (low & 7);
      used = (low >> 3) + 1;
    }
    blocks.push(Buffer.from([window, used]), bits.subarray(0, used));
  }
  return Buffer.concat(blocks);
}

/** Compact denial's NSEC RDATA at `name` (RFC 9824): next name `\000.name`, then the bitmap. */
export function compactNsecRdata(name: string, types: Iterable<number>): Buffer {
  return Buffer.concat([Buffer.from([1, 0]), encodeName(name.toLowerCase()), typeBitmap(types)]);
}
