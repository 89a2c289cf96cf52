/**
 * Record encoding at compile time. dns2 writes the RDATA (it is correct for every type
 * Meridian serves once it is given a writer without a compression table, so nothing is
 * compressed and each record is position-independent); this file cuts dns2's output into a
 * reusable "tail" (TYPE, CLASS, TTL, RDLENGTH, RDATA) that is prefixed with an owner name
 * when the answer is assembled. dns2 never runs on the per-query path.
 */
import dns2 from 'dns2';
import { RRClass, RRType } from './dns-constants.js';

/** RDATA of the types Meridian serves, in the shapes the zone compiler produces. */
export type RData =
  | { type: 'A'; address: string }
  | { type: 'AAAA'; address: string }
  | { type: 'NS'; target: string }
  | { type: 'CNAME'; target: string }
  | { type: 'MX'; preference: number; exchange: string }
  | { type: 'TXT'; strings: readonly string[] }
  | { type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { type: 'CAA'; flags: number; tag: string; value: string }
  | {
      type: 'SOA';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    };

// dns2's runtime API is untyped where it matters here (Resource.encode accepts a loose object).
interface Dns2Codec {
  Packet: {
    Resource: { encode(resource: Record<string, unknown>): Buffer };
  };
}
const codec = dns2 as unknown as Dns2Codec;

/** RFC 1035 §3.3: a <character-string> holds at most 255 octets; longer TXT text is split. */
export function splitCharacterStrings(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return [Buffer.alloc(0)];
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 255) parts.push(bytes.subarray(offset, offset + 255));
  return parts;
}

function dns2Fields(rdata: RData): Record<string, unknown> {
  switch (rdata.type) {
    case 'A':
    case 'AAAA':
      return { address: rdata.address };
    case 'NS':
      return { ns: rdata.target };
    case 'CNAME':
      return { domain: rdata.target };
    case 'MX':
      return { exchange: rdata.exchange, priority: rdata.preference };
    case 'TXT':
      // dns2 corrupts strings over 255 bytes: hand it pre-split buffers (notes/dependencies.md).
      return { data: rdata.strings.flatMap(splitCharacterStrings) };
    case 'SRV':
      return { priority: rdata.priority, weight: rdata.weight, port: rdata.port, target: rdata.target };
    case 'CAA':
      return { flags: rdata.flags, tag: rdata.tag, value: rdata.value };
    case 'SOA':
      return {
        primary: rdata.mname,
        admin: rdata.rname,
        serial: rdata.serial,
        refresh: rdata.refresh,
        retry: rdata.retry,
        expiration: rdata.expire,
        minimum: rdata.minimum,
      };
  }
}

/**
 * Encodes TYPE, CLASS (IN), TTL, RDLENGTH and RDATA: everything of a record but its owner.
 * dns2 is given the root as owner (one zero byte), which is cut off.
 */
export function encodeRecordTail(rdata: RData, ttl: number): Buffer {
  const wire = codec.Packet.Resource.encode({
    name: '',
    type: RRType[rdata.type],
    class: RRClass.IN, // dns2 defaults to ANY when class is left out
    ttl,
    ...dns2Fields(rdata),
  });
  return Buffer.from(wire.subarray(1));
}

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

/** A complete record: owner bytes then tail. */
export function withOwner(owner: Buffer, tail: Buffer): Buffer {
  return Buffer.concat([owner, tail]);
}
