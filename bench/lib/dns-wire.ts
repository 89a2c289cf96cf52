/**
 * Just enough DNS wire format for the benchmark: encode a query (optionally with an EDNS Client
 * Subnet option) and read the header of an answer. Kept apart from src/ on purpose: the benchmark
 * must drive any server (Meridian, PowerDNS, gdnsd) the same way, so it shares no code with one of them.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const QTYPES: Readonly<Record<string, number>> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, CAA: 257, ANY: 255,
};

export const RCODES: readonly string[] = [
  'NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE',
];

export interface ParsedSubnet {
  family: 1 | 2;
  prefix: number;
  /** the address truncated to ceil(prefix / 8) bytes, as RFC 7871 puts it on the wire */
  bytes: Buffer;
}

/** "81.2.69.0/24" or "2a02:8010::/32" → the fields of an ECS option. */
export function parseSubnet(subnet: string): ParsedSubnet {
  const [address, prefixText] = subnet.split('/');
  if (address === undefined) throw new Error(`bad subnet ${subnet}`);
  let full: Buffer;
  let family: 1 | 2;
  if (isIPv4(address)) {
    family = 1;
    full = Buffer.from(address.split('.').map(Number));
  } else if (isIPv6(address)) {
    family = 2;
    full = ipv6Bytes(address);
  } else {
    throw new Error(`bad subnet address ${subnet}`);
  }
  const prefix = prefixText === undefined ? full.length * 8 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > full.length * 8) throw new Error(`bad prefix in ${subnet}`);
  const bytes = Buffer.from(full.subarray(0, Math.ceil(prefix / 8)));
  if (prefix % 8 !== 0 && bytes.length > 0) bytes[bytes.length - 1]! &= (0xff << (8 - (prefix % 8))) & 0xff;
  return { family, prefix, bytes };
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  const all = [...left, ...Array<string>(Math.max(0, missing)).fill('0'), ...right];
  const out = Buffer.alloc(16);
  all.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** The RDATA of an ECS option (code 8): FAMILY, SOURCE PREFIX-LENGTH, SCOPE 0, ADDRESS. */
export function ecsOptionValue(subnet: string): Buffer {
  const s = parseSubnet(subnet);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(s.family, 0);
  head[2] = s.prefix;
  head[3] = 0;
  return Buffer.concat([head, s.bytes]);
}

/** dnsperf's `-E code:value` argument for an ECS option. */
export function ecsDnsperfArgument(subnet: string): string {
  return `8:${ecsOptionValue(subnet).toString('hex')}`;
}

export interface QueryOptions {
  id?: number;
  /** EDNS Client Subnet to attach (adds an OPT record) */
  ecs?: string;
  /** add an OPT record even without ECS */
  edns?: boolean;
  /** RD bit; dnsperf sets it on its own queries, so the binary files do too */
  recursionDesired?: boolean;
}

export function encodeQuery(name: string, type: string, options: QueryOptions = {}): Buffer {
  const qtype = QTYPES[type.toUpperCase()];
  if (qtype === undefined) throw new Error(`unknown query type ${type}`);
  const withOpt = options.edns === true || options.ecs !== undefined;
  const header = Buffer.alloc(12);
  header.writeUInt16BE((options.id ?? 0) & 0xffff, 0);
  header.writeUInt16BE(options.recursionDesired === false ? 0 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(withOpt ? 1 : 0, 10);
  const labels: Buffer[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label === '') continue;
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new Error(`label too long in ${name}`);
    labels.push(Buffer.from([bytes.length]), bytes);
  }
  labels.push(Buffer.from([0]));
  const question = Buffer.alloc(4);
  question.writeUInt16BE(qtype, 0);
  question.writeUInt16BE(1, 2);
  const parts = [header, ...labels, question];
  if (withOpt) {
    const rdata = options.ecs === undefined ? Buffer.alloc(0) : optionTlv(8, ecsOptionValue(options.ecs));
    const opt = Buffer.alloc(11);
    opt[0] = 0; // root name
    opt.writeUInt16BE(41, 1); // OPT
    opt.writeUInt16BE(1232, 3); // UDP payload size
    opt.writeUInt32BE(0, 5); // extended rcode, version, flags
    opt.writeUInt16BE(rdata.length, 9);
    parts.push(opt, rdata);
  }
  return Buffer.concat(parts);
}

function optionTlv(code: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value]);
}

/** One query as dnsperf's `-B` format wants it: a 2-byte length, then the message (RFC 1035 4.2.2). */
export function tcpFramed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length, 0);
  return Buffer.concat([length, message]);
}

export interface AnswerHeader {
  id: number;
  qr: boolean;
  aa: boolean;
  tc: boolean;
  rcode: string;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export function readAnswerHeader(message: Buffer): AnswerHeader {
  if (message.length < 12) throw new Error(`answer of ${message.length} bytes is shorter than a DNS header`);
  const flags = message.readUInt16BE(2);
  const rcode = flags & 0x0f;
  return {
    id: message.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rcode: RCODES[rcode] ?? `RCODE${rcode}`,
    qdcount: message.readUInt16BE(4),
    ancount: message.readUInt16BE(6),
    nscount: message.readUInt16BE(8),
    arcount: message.readUInt16BE(10),
  };
}

/** Skip a (possibly compressed) name starting at `offset`; returns the offset after it. */
function skipName(message: Buffer, offset: number): number {
  for (let guard = 0; guard < 128; guard++) {
    const len = message[offset];
    if (len === undefined) throw new Error('name runs past the end of the message');
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2;
    offset += 1 + len;
  }
  throw new Error('name too long');
}

/** The addresses of the A records in the answer section (any owner name), in wire order. */
export function readAnswerA(message: Buffer): string[] {
  const h = readAnswerHeader(message);
  let offset = 12;
  for (let i = 0; i < h.qdcount; i++) offset = skipName(message, offset) + 4;
  const out: string[] = [];
  for (let i = 0; i < h.ancount; i++) {
    offset = skipName(message, offset);
    const type = message.readUInt16BE(offset);
    const rdlength = message.readUInt16BE(offset + 8);
    const rdata = offset + 10;
    if (rdata + rdlength > message.length) throw new Error('answer record runs past the end of the message');
    if (type === QTYPES.A && rdlength === 4) out.push(Array.from(message.subarray(rdata, rdata + 4)).join('.'));
    offset = rdata + rdlength;
  }
  return out;
}
