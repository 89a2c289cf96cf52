/**
 * The form every answer record is kept in, built off the query path (by the zone compiler and
 * the DNSSEC signer) and copied whole into responses: an owner, either `OWNER_IS_QNAME` (a
 * pointer to the question) or the name written out, then the tail: TYPE, CLASS IN, TTL,
 * RDLENGTH, RDATA.
 */
import { RRClass } from './dns-constants.js';
import { OWNER_IS_QNAME } from './names.js';

/** A record's tail: TYPE, CLASS IN, TTL, RDLENGTH and `rdata`. */
export function recordTail(type: number, ttl: number, rdata: Buffer): Buffer {
  const tail = Buffer.allocUnsafe(10 + rdata.length);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(RRClass.IN, 2);
  tail.writeUInt32BE(ttl, 4);
  tail.writeUInt16BE(rdata.length, 8);
  rdata.copy(tail, 10);
  return tail;
}

/** A record from a tail: the owner a pointer to the question (null), or `ownerWire` written out. */
export function recordOf(ownerWire: Buffer | null, tail: Buffer): Buffer {
  return Buffer.concat([ownerWire ?? OWNER_IS_QNAME, tail]);
}

/** The bytes after a record's owner (a pointer, or labels): its tail. */
export function tailOf(record: Buffer): Buffer {
  let at = 0;
  for (;;) {
    const length = record[at]!;
    if (length >= 0xc0) return record.subarray(at + 2);
    at += 1 + length;
    if (length === 0) return record.subarray(at);
  }
}
