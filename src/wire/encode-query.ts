/**
 * The query side of the message codec: builds a query as a client sends it (header flags, one
 * question, an OPT record with the DO bit, Client Subnet, NSID, cookie or any other option).
 * For `explain`, the tests and the benchmark; the server itself never builds a query. Names are
 * written uncompressed, as every client does in a query.
 */
import { addressBytes } from './address-text.js';
import {
  DO_BIT,
  EcsFamily,
  EdnsOption,
  Flag,
  HEADER_SIZE,
  OPCODE_MASK,
  OPCODE_SHIFT,
  OPT_FIXED_SIZE,
  RRClass,
  RRType,
  SERVER_UDP_PAYLOAD,
  rrTypeCode,
} from './dns-constants.js';
import { encodeName } from './names.js';

/** One EDNS option as it sits in the OPT RDATA (RFC 6891 §6.1.2). */
export interface EdnsOptionData {
  code: number;
  data: Buffer;
}

/** Header bits by name (RFC 1035 §4.1.1; Z is the reserved bit 0x0040, AD and CD from RFC 4035). */
export interface HeaderFlags {
  qr: boolean;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: boolean;
  ad: boolean;
  cd: boolean;
}

/** The bits to set in a query: any header flag, and the opcode (default QUERY). */
export type HeaderFlagsSpec = Partial<HeaderFlags> & { opcode?: number };

/** The OPT record of a query. Every field has the usual default, so `{}` is plain EDNS0. */
export interface QueryEdns {
  /** Advertised UDP payload size (the OPT CLASS). Default 1232. */
  udpSize?: number;
  /** EDNS version (RFC 6891 §6.1.3). Default 0. */
  version?: number;
  /** The DO bit (RFC 3225). */
  do?: boolean;
  /** Other bits of the OPT flags field (the Z bits), which a query should leave 0. */
  zFlags?: number;
  /** Upper 8 bits of the extended rcode, 0 in queries. */
  extendedRcode?: number;
  /** Options written first, in this order. */
  options?: readonly EdnsOptionData[];
  /** Adds an empty NSID option (RFC 5001 §2.3). */
  nsid?: boolean;
  /** Adds a Client Subnet option (RFC 7871) for "192.0.2.0/24" or "2001:db8::/56". */
  clientSubnet?: string;
}

export interface QuerySpec {
  /** Message ID. Default 0. */
  id?: number;
  name: string;
  /** A type code, or a name such as "AAAA" or "TYPE65280". */
  type: number | string;
  /** Default IN. */
  qclass?: number;
  /** Flags by name (RD is off unless asked for, as `dig +norec`), or the raw 16-bit flags word. */
  flags?: HeaderFlagsSpec | number;
  /** The OPT record; none when absent or null. */
  edns?: QueryEdns | null;
}

const FLAG_BITS: readonly [keyof HeaderFlags, number][] = [
  ['qr', Flag.QR],
  ['aa', Flag.AA],
  ['tc', Flag.TC],
  ['rd', Flag.RD],
  ['ra', Flag.RA],
  ['z', Flag.Z],
  ['ad', Flag.AD],
  ['cd', Flag.CD],
];

/** The 16-bit flags word for named bits and an opcode. */
export function flagsWord(flags: HeaderFlagsSpec | number | undefined): number {
  if (typeof flags === 'number') return flags & 0xffff;
  let word = ((flags?.opcode ?? 0) << OPCODE_SHIFT) & OPCODE_MASK;
  for (const [name, bit] of FLAG_BITS) if (flags?.[name]) word |= bit;
  return word;
}

/** The header bits of a flags word by name. */
export function headerFlags(word: number): HeaderFlags {
  const flags = {} as HeaderFlags;
  for (const [name, bit] of FLAG_BITS) flags[name] = (word & bit) !== 0;
  return flags;
}

/** A type given by code or by name, as a code; throws RangeError for an unknown name. */
function typeCodeOf(type: number | string): number {
  if (typeof type === 'number') return type;
  const code = rrTypeCode(type);
  if (code === undefined) throw new RangeError(`unknown record type ${type}`);
  return code;
}

/** QNAME, QTYPE and QCLASS (RFC 1035 §4.1.2). */
export function encodeQuestion(name: string, type: number | string, qclass: number = RRClass.IN): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(typeCodeOf(type), 0);
  tail.writeUInt16BE(qclass, 2);
  return Buffer.concat([encodeName(name), tail]);
}

/**
 * The Client Subnet option for "address/prefix" (RFC 7871 §6): FAMILY, SOURCE PREFIX-LENGTH,
 * SCOPE PREFIX-LENGTH (0 in a query unless given) and ADDRESS cut to ceil(prefix / 8) bytes
 * with the bits beyond the prefix cleared. A missing prefix means the whole address.
 */
export function clientSubnetOption(subnet: string, scope = 0): EdnsOptionData {
  const [address = '', prefixText, extra] = subnet.split('/');
  const full = addressBytes(address);
  const width = full.length * 8;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > width) throw new RangeError(`bad subnet ${subnet}`);
  const length = Math.ceil(prefix / 8);
  const data = Buffer.alloc(4 + length);
  data.writeUInt16BE(full.length === 4 ? EcsFamily.IPV4 : EcsFamily.IPV6, 0);
  data[2] = prefix;
  data[3] = scope;
  full.copy(data, 4, 0, length);
  if (prefix % 8 !== 0) data[3 + length]! &= (0xff << (8 - (prefix % 8))) & 0xff;
  return { code: EdnsOption.CLIENT_SUBNET, data };
}

/** A COOKIE option (RFC 7873 §4): the 8-byte client cookie, then the server cookie if known. */
export function cookieOption(clientCookie: Buffer, serverCookie: Buffer = Buffer.alloc(0)): EdnsOptionData {
  if (clientCookie.length !== 8) throw new RangeError('a client cookie is 8 bytes');
  if (serverCookie.length !== 0 && (serverCookie.length < 8 || serverCookie.length > 32)) throw new RangeError('a server cookie is 8 to 32 bytes');
  return { code: EdnsOption.COOKIE, data: Buffer.concat([clientCookie, serverCookie]) };
}

/** The OPT pseudo-record (RFC 6891 §6.1.2), owned by the root. */
export function encodeOptRecord(edns: QueryEdns): Buffer {
  const options = [...(edns.options ?? [])];
  if (edns.nsid) options.push({ code: EdnsOption.NSID, data: Buffer.alloc(0) });
  if (edns.clientSubnet !== undefined) options.push(clientSubnetOption(edns.clientSubnet));
  const rdataLength = options.reduce((sum, option) => sum + 4 + option.data.length, 0);
  const out = Buffer.alloc(OPT_FIXED_SIZE + rdataLength);
  out[0] = 0; // the root
  out.writeUInt16BE(RRType.OPT, 1);
  out.writeUInt16BE(edns.udpSize ?? SERVER_UDP_PAYLOAD, 3);
  out[5] = edns.extendedRcode ?? 0;
  out[6] = edns.version ?? 0;
  out.writeUInt16BE(((edns.do ? DO_BIT : 0) | (edns.zFlags ?? 0)) & 0xffff, 7);
  out.writeUInt16BE(rdataLength, 9);
  let offset = OPT_FIXED_SIZE;
  for (const option of options) {
    out.writeUInt16BE(option.code, offset);
    out.writeUInt16BE(option.data.length, offset + 2);
    option.data.copy(out, offset + 4);
    offset += 4 + option.data.length;
  }
  return out;
}

/** A whole query message: header, the question, and the OPT record when `edns` is given. */
export function encodeQuery(spec: QuerySpec): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header.writeUInt16BE((spec.id ?? 0) & 0xffff, 0);
  header.writeUInt16BE(flagsWord(spec.flags), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(spec.edns ? 1 : 0, 10);
  const question = encodeQuestion(spec.name, spec.type, spec.qclass);
  return Buffer.concat(spec.edns ? [header, question, encodeOptRecord(spec.edns)] : [header, question]);
}

/** RFC 1035 §4.2.2: a message over TCP goes behind its 2-byte length. */
export function tcpFrame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}
