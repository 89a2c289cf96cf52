/**
 * Mutations of a valid DNS message, as data: the property tests generate them with fast-check
 * (which shrinks them to the smallest failing case), the live fuzzer (`npm run fuzz`) draws them
 * from a seeded generator. Positions are taken modulo the packet's length, so any number is a
 * valid mutation of any packet.
 */
import { HEADER_SIZE } from '../../src/wire/index.js';

export type PacketMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: readonly number[] }
  | { kind: 'delete'; at: number; count: number }
  /** Rewrites QDCOUNT, ANCOUNT, NSCOUNT or ARCOUNT (section 0–3). */
  | { kind: 'count'; section: number; value: number };

/** The header's four 16-bit section counts start here (RFC 1035 §4.1.1). */
const COUNTS_OFFSET = 4;

/** Applies one mutation; the input is not changed. */
export function applyMutation(packet: Buffer, mutation: PacketMutation): Buffer {
  const at = packet.length === 0 ? 0 : mutation.kind === 'count' ? 0 : mutation.at % packet.length;
  switch (mutation.kind) {
    case 'flip': {
      const out = Buffer.from(packet);
      if (out.length > 0) out[at] = out[at]! ^ (1 << (mutation.bit & 7));
      return out;
    }
    case 'set': {
      const out = Buffer.from(packet);
      if (out.length > 0) out[at] = mutation.byte & 0xff;
      return out;
    }
    case 'truncate':
      return Buffer.from(packet.subarray(0, at));
    case 'insert':
      return Buffer.concat([packet.subarray(0, at), Buffer.from(mutation.bytes), packet.subarray(at)]);
    case 'delete':
      return Buffer.concat([packet.subarray(0, at), packet.subarray(at + mutation.count)]);
    case 'count': {
      const out = Buffer.from(packet);
      const offset = COUNTS_OFFSET + 2 * (mutation.section & 3);
      if (out.length >= HEADER_SIZE) out.writeUInt16BE(mutation.value & 0xffff, offset);
      return out;
    }
  }
}

export function applyMutations(packet: Buffer, mutations: readonly PacketMutation[]): Buffer {
  return mutations.reduce(applyMutation, packet);
}

/** One mutation drawn from `next` (a number in [0, 1)); counts favour the small values parsers trip on. */
export function randomMutation(next: () => number): PacketMutation {
  const int = (below: number): number => Math.floor(next() * below);
  switch (int(6)) {
    case 0:
      return { kind: 'flip', at: int(512), bit: int(8) };
    case 1:
      return { kind: 'set', at: int(512), byte: int(256) };
    case 2:
      return { kind: 'truncate', at: int(512) };
    case 3:
      return { kind: 'insert', at: int(512), bytes: Array.from({ length: 1 + int(8) }, () => int(256)) };
    case 4:
      return { kind: 'delete', at: int(512), count: 1 + int(8) };
    default:
      return { kind: 'count', section: int(4), value: next() < 0.8 ? int(4) : int(65536) };
  }
}
