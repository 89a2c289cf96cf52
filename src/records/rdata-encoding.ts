/**
 * records/rdata-encoding: helpers the record types encode RDATA with. dns2 writes the RDATA of
 * the types it gets right (given no compression table, nothing is compressed); the types it
 * gets wrong (TXT over 255 bytes, SRV targets, see the shared notes/dependencies.md) write
 * their own bytes. Runs at compile time only, never per query.
 */
import dns2 from 'dns2';
import { encodeName, RRClass } from '../wire/index.js';

// dns2's runtime API is untyped where it matters here (Resource.encode accepts a loose object).
interface Dns2Codec {
  Packet: { Resource: { encode(resource: Record<string, unknown>): Buffer } };
}
const codec = dns2 as unknown as Dns2Codec;

/** Owner (the root, one byte), TYPE, CLASS, TTL and RDLENGTH: what dns2 writes before the RDATA. */
const DNS2_RECORD_HEAD = 1 + 2 + 2 + 4 + 2;

/** RDATA written by dns2 from its own field names (`{ exchange, priority }` for MX). */
export function dns2Rdata(code: number, fields: Record<string, unknown>): Buffer {
  // dns2 defaults the class to ANY when it is left out.
  const wire = codec.Packet.Resource.encode({ name: '', type: code, class: RRClass.IN, ttl: 0, ...fields });
  return Buffer.from(wire.subarray(DNS2_RECORD_HEAD));
}

/** RFC 1035 §3.3: a <character-string> holds at most 255 octets; longer text is split. */
export function splitCharacterStrings(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 255) parts.push(bytes.subarray(offset, offset + 255));
  return parts;
}

/** <character-string>s: each a length octet and its bytes. */
export function characterStrings(parts: readonly Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((part) => [Buffer.from([part.length]), part]));
}

/** 16-bit numbers in network order, then an uncompressed name (SRV, and types like it). */
export function numbersThenName(numbers: readonly number[], name: string): Buffer {
  const head = Buffer.alloc(numbers.length * 2);
  numbers.forEach((value, i) => head.writeUInt16BE(value, i * 2));
  return Buffer.concat([head, encodeName(name)]);
}
