/**
 * A small, independent DNS client for the end-to-end tests: builds queries byte by byte,
 * sends them over UDP or TCP, and parses responses into presentation text the way `dig`
 * prints it. It imports nothing from `src/` (a wire test must not trust the code it tests)
 * and does not use dns2 (its parser drops NSID and some ECS options).
 */
import { createSocket } from 'node:dgram';
import { connect, isIP, type Socket } from 'node:net';

export interface Address {
  host: string;
  port: number;
}

// ---- numbers -------------------------------------------------------------------------------

export const TYPES: Record<string, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  DS: 43,
  RRSIG: 46,
  DNSKEY: 48,
  HTTPS: 65,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  CAA: 257,
};
const TYPE_NAMES = new Map(Object.entries(TYPES).map(([name, code]) => [code, name]));

export function typeCode(type: string | number): number {
  if (typeof type === 'number') return type;
  const code = TYPES[type.toUpperCase()] ?? (/^TYPE(\d+)$/i.exec(type) ? Number(type.slice(4)) : undefined);
  if (code === undefined) throw new Error(`unknown type ${type}`);
  return code;
}

export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `TYPE${code}`;
}

export const RCODES: Record<string, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
};
const RCODE_NAMES = new Map(Object.entries(RCODES).map(([name, code]) => [code, name]));
export function rcodeName(code: number): string {
  return RCODE_NAMES.get(code) ?? `RCODE${code}`;
}

export const OPCODES = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;
export const EDNS_NSID = 3;
export const EDNS_ECS = 8;
export const EDNS_COOKIE = 10;

// ---- building queries ----------------------------------------------------------------------

export interface EdnsOption {
  code: number;
  data: Buffer;
}

export interface EdnsQueryOptions {
  /** Advertised UDP payload size (the OPT CLASS). Default 1232. */
  udpSize?: number;
  /** EDNS version (byte 2 of the OPT TTL). Default 0. */
  version?: number;
  /** The DO bit. */
  do?: boolean;
  /** Extra OPT flag bits (the Z field), ORed into the low 16 bits of the OPT TTL. */
  zFlags?: number;
  /** Upper 8 bits of the extended rcode (byte 0 of the OPT TTL); should be 0 in queries. */
  extendedRcode?: number;
  /** Raw options, written in this order. */
  options?: EdnsOption[];
  /** Adds an empty NSID option (RFC 5001 §2.3). */
  nsid?: boolean;
  /** Adds an ECS option for this subnet (RFC 7871), e.g. "192.0.2.0/24" or "2001:db8::/56". */
  clientSubnet?: string;
  /** The OPT record's owner name bytes (default the root, one zero byte). */
  ownerBytes?: Buffer;
  /** Override the OPT RDLENGTH (for malformed-packet tests). */
  rdlength?: number;
}

export interface HeaderFlags {
  qr?: boolean;
  aa?: boolean;
  tc?: boolean;
  rd?: boolean;
  ra?: boolean;
  /** The reserved Z bit (0x0040). */
  z?: boolean;
  ad?: boolean;
  cd?: boolean;
  opcode?: number;
}

export interface QueryOptions {
  id?: number;
  /** Header flags; rd defaults to false (as `dig +norec`). A number is used as the raw flags word. */
  flags?: HeaderFlags | number;
  qclass?: number;
  /** An OPT record (EDNS0), or none when absent/false. */
  edns?: EdnsQueryOptions | false;
  /** Count overrides written into the header regardless of the sections actually present. */
  qdcount?: number;
  ancount?: number;
  nscount?: number;
  arcount?: number;
  /** Additional questions written after the first (for QDCOUNT tests). */
  extraQuestions?: { name: string; type: string | number }[];
  /** Bytes appended at the very end. */
  trailing?: Buffer;
}

let nextId = Math.floor(Math.random() * 0xffff);
function freshId(): number {
  nextId = (nextId + 1) & 0xffff;
  return nextId;
}

/** Uncompressed wire form of a presentation name, case kept ("" or "." is the root). */
export function encodeName(name: string): Buffer {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  if (trimmed === '') return Buffer.from([0]);
  const parts: Buffer[] = [];
  for (const label of trimmed.split('.')) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new RangeError(`bad label in ${name}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function flagsWord(flags: HeaderFlags | number | undefined): number {
  if (typeof flags === 'number') return flags & 0xffff;
  const f = flags ?? {};
  let word = 0;
  if (f.qr) word |= 0x8000;
  word |= ((f.opcode ?? 0) & 0xf) << 11;
  if (f.aa) word |= 0x0400;
  if (f.tc) word |= 0x0200;
  if (f.rd) word |= 0x0100;
  if (f.ra) word |= 0x0080;
  if (f.z) word |= 0x0040;
  if (f.ad) word |= 0x0020;
  if (f.cd) word |= 0x0010;
  return word;
}

/** The ECS option data for "addr/prefix" (RFC 7871 §6): family, source, scope 0, prefix bytes. */
export function ecsOptionData(subnet: string, scope = 0): Buffer {
  const [address = '', prefixText = ''] = subnet.split('/');
  const family = isIP(address);
  if (family === 0) throw new Error(`bad subnet ${subnet}`);
  const prefix = Number(prefixText);
  const full = family === 4 ? ipv4Bytes(address) : ipv6Bytes(address);
  const length = Math.ceil(prefix / 8);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(family === 4 ? 1 : 2, 0);
  head[2] = prefix;
  head[3] = scope;
  return Buffer.concat([head, full.subarray(0, length)]);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = Buffer.alloc(16);
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** The OPT pseudo-record bytes for the given settings. */
export function encodeOpt(edns: EdnsQueryOptions): Buffer {
  const options: EdnsOption[] = [...(edns.options ?? [])];
  if (edns.nsid) options.push({ code: EDNS_NSID, data: Buffer.alloc(0) });
  if (edns.clientSubnet !== undefined) options.push({ code: EDNS_ECS, data: ecsOptionData(edns.clientSubnet) });
  const rdata = Buffer.concat(
    options.map((option) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(option.code, 0);
      head.writeUInt16BE(option.data.length, 2);
      return Buffer.concat([head, option.data]);
    }),
  );
  const owner = edns.ownerBytes ?? Buffer.from([0]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPES.OPT!, 0);
  fixed.writeUInt16BE(edns.udpSize ?? 1232, 2);
  fixed[4] = edns.extendedRcode ?? 0;
  fixed[5] = edns.version ?? 0;
  fixed.writeUInt16BE(((edns.do ? 0x8000 : 0) | (edns.zFlags ?? 0)) & 0xffff, 6);
  fixed.writeUInt16BE(edns.rdlength ?? rdata.length, 8);
  return Buffer.concat([owner, fixed, rdata]);
}

function encodeQuestion(name: string, type: string | number, qclass: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(typeCode(type), 0);
  tail.writeUInt16BE(qclass, 2);
  return Buffer.concat([encodeName(name), tail]);
}

/** Builds a query message. Anything can be overridden to build malformed ones. */
export function buildQuery(options: QueryOptions & { name: string; type: string | number }): Buffer {
  const qclass = options.qclass ?? 1;
  const questions = [encodeQuestion(options.name, options.type, qclass)];
  for (const extra of options.extraQuestions ?? []) questions.push(encodeQuestion(extra.name, extra.type, qclass));
  const opt = options.edns ? encodeOpt(options.edns) : null;
  const header = Buffer.alloc(12);
  header.writeUInt16BE(options.id ?? freshId(), 0);
  header.writeUInt16BE(flagsWord(options.flags), 2);
  header.writeUInt16BE(options.qdcount ?? questions.length, 4);
  header.writeUInt16BE(options.ancount ?? 0, 6);
  header.writeUInt16BE(options.nscount ?? 0, 8);
  header.writeUInt16BE(options.arcount ?? (opt ? 1 : 0), 10);
  return Buffer.concat([header, ...questions, ...(opt ? [opt] : []), options.trailing ?? Buffer.alloc(0)]);
}

// ---- parsing responses ---------------------------------------------------------------------

export interface Question {
  name: string;
  type: string;
  qclass: number;
}

export interface ResourceRecord {
  /** Owner in presentation form with the final dot, case as sent. */
  name: string;
  type: string;
  typeCode: number;
  rclass: number;
  ttl: number;
  /** RDATA as dig prints it. */
  data: string;
  /** The raw RDATA bytes and where they sit in the message. */
  rdata: Buffer;
  rdataOffset: number;
}

export interface ParsedOpt {
  udpSize: number;
  extendedRcode: number;
  version: number;
  do: boolean;
  /** The whole 16-bit flags field (DO + Z). */
  flags: number;
  options: EdnsOption[];
  ecs?: { family: number; source: number; scope: number; address: string };
  nsid?: string;
}

export interface ParsedResponse {
  id: number;
  opcode: number;
  flags: { qr: boolean; aa: boolean; tc: boolean; rd: boolean; ra: boolean; z: boolean; ad: boolean; cd: boolean };
  /** Full rcode: header bits plus the OPT's extended bits. */
  rcode: number;
  rcodeName: string;
  /** The rcode in the header alone (4 bits). */
  headerRcode: number;
  counts: { qd: number; an: number; ns: number; ar: number };
  question: Question[];
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  /** Additional records without the OPT. */
  additional: ResourceRecord[];
  opt: ParsedOpt | null;
  size: number;
  raw: Buffer;
}

export class ParseError extends Error {}

class Reader {
  constructor(
    readonly buf: Buffer,
    public offset = 0,
  ) {}

  need(n: number): void {
    if (this.offset + n > this.buf.length) throw new ParseError(`message ends at ${this.buf.length}, needed ${n} bytes at ${this.offset}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }

  u16(): number {
    this.need(2);
    const value = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /** A possibly compressed name; presentation form with a final dot. */
  name(): string {
    const labels: string[] = [];
    let offset = this.offset;
    let jumped = false;
    let hops = 0;
    let length = 0;
    for (;;) {
      if (offset >= this.buf.length) throw new ParseError('name runs past the end');
      const len = this.buf[offset]!;
      if ((len & 0xc0) === 0xc0) {
        if (offset + 1 >= this.buf.length) throw new ParseError('truncated pointer');
        const target = ((len & 0x3f) << 8) | this.buf[offset + 1]!;
        if (!jumped) this.offset = offset + 2;
        jumped = true;
        if (++hops > 64 || target >= offset) throw new ParseError('compression pointer loop or forward pointer');
        offset = target;
        continue;
      }
      if ((len & 0xc0) !== 0) throw new ParseError(`bad label type 0x${len.toString(16)}`);
      if (len === 0) {
        if (!jumped) this.offset = offset + 1;
        break;
      }
      if (offset + 1 + len > this.buf.length) throw new ParseError('label runs past the end');
      length += len + 1;
      if (length > 255) throw new ParseError('name too long');
      labels.push(presentLabel(this.buf.subarray(offset + 1, offset + 1 + len)));
      offset += 1 + len;
    }
    return labels.length === 0 ? '.' : `${labels.join('.')}.`;
  }
}

function presentLabel(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    if (byte === 0x2e || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte <= 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/** A <character-string> as dig prints it: quoted, with " and \ escaped and other bytes as \DDD. */
function presentString(bytes: Buffer): string {
  let out = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\${byte.toString().padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return `${out}"`;
}

function formatIPv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // RFC 5952 form, as the URL host parser prints it.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function presentRdata(reader: Reader, type: number, rdlength: number): string {
  const start = reader.offset;
  const end = start + rdlength;
  const raw = reader.buf.subarray(start, end);
  const done = (text: string): string => {
    if (reader.offset !== end) throw new ParseError(`RDATA of ${typeName(type)} is ${rdlength} bytes but ${reader.offset - start} were read`);
    return text;
  };
  switch (type) {
    case TYPES.A:
      reader.bytes(4);
      return done(Array.from(raw.subarray(0, 4)).join('.'));
    case TYPES.AAAA:
      reader.bytes(16);
      return done(formatIPv6(raw));
    case TYPES.NS:
    case TYPES.CNAME:
    case TYPES.PTR:
      return done(reader.name());
    case TYPES.MX: {
      const preference = reader.u16();
      return done(`${preference} ${reader.name()}`);
    }
    case TYPES.SRV: {
      const priority = reader.u16();
      const weight = reader.u16();
      const port = reader.u16();
      return done(`${priority} ${weight} ${port} ${reader.name()}`);
    }
    case TYPES.SOA: {
      const mname = reader.name();
      const rname = reader.name();
      const numbers = [reader.u32(), reader.u32(), reader.u32(), reader.u32(), reader.u32()];
      return done(`${mname} ${rname} ${numbers.join(' ')}`);
    }
    case TYPES.TXT: {
      const strings: string[] = [];
      while (reader.offset < end) {
        const length = reader.u8();
        if (reader.offset + length > end) throw new ParseError('TXT string runs past RDATA');
        strings.push(presentString(reader.bytes(length)));
      }
      return done(strings.join(' '));
    }
    case TYPES.CAA: {
      const flags = reader.u8();
      const tagLength = reader.u8();
      const tag = reader.bytes(tagLength).toString('latin1');
      const value = reader.bytes(end - reader.offset);
      return done(`${flags} ${tag} ${presentString(value)}`);
    }
    default:
      reader.bytes(rdlength);
      return `\\# ${rdlength}${rdlength ? ` ${raw.toString('hex').toUpperCase()}` : ''}`;
  }
}

function readRecord(reader: Reader): { record: ResourceRecord; optTtl: number } {
  const name = reader.name();
  const type = reader.u16();
  const rclass = reader.u16();
  const ttl = reader.u32();
  const rdlength = reader.u16();
  reader.need(rdlength);
  const rdataOffset = reader.offset;
  const rdata = reader.buf.subarray(rdataOffset, rdataOffset + rdlength);
  let data: string;
  if (type === TYPES.OPT) {
    reader.offset += rdlength;
    data = '';
  } else {
    data = presentRdata(reader, type, rdlength);
  }
  reader.offset = rdataOffset + rdlength;
  return { record: { name, type: typeName(type), typeCode: type, rclass, ttl, data, rdata, rdataOffset }, optTtl: ttl };
}

function parseOpt(record: ResourceRecord): ParsedOpt {
  const options: EdnsOption[] = [];
  const rdata = record.rdata;
  let offset = 0;
  while (offset < rdata.length) {
    if (offset + 4 > rdata.length) throw new ParseError('OPT option header runs past RDATA');
    const code = rdata.readUInt16BE(offset);
    const length = rdata.readUInt16BE(offset + 2);
    if (offset + 4 + length > rdata.length) throw new ParseError('OPT option runs past RDATA');
    options.push({ code, data: Buffer.from(rdata.subarray(offset + 4, offset + 4 + length)) });
    offset += 4 + length;
  }
  const opt: ParsedOpt = {
    udpSize: record.rclass,
    extendedRcode: (record.ttl >>> 24) & 0xff,
    version: (record.ttl >>> 16) & 0xff,
    do: (record.ttl & 0x8000) !== 0,
    flags: record.ttl & 0xffff,
    options,
  };
  for (const option of options) {
    if (option.code === EDNS_NSID) opt.nsid = option.data.toString('utf8');
    if (option.code === EDNS_ECS && option.data.length >= 4) {
      const family = option.data.readUInt16BE(0);
      const addressBytes = option.data.subarray(4);
      const full = Buffer.alloc(family === 2 ? 16 : 4);
      addressBytes.copy(full);
      opt.ecs = {
        family,
        source: option.data[2]!,
        scope: option.data[3]!,
        address: family === 2 ? formatIPv6(full) : Array.from(full).join('.'),
      };
    }
  }
  return opt;
}

/** Parses a whole response; throws ParseError on anything malformed (trailing bytes included). */
export function parseResponse(buf: Buffer): ParsedResponse {
  const reader = new Reader(buf);
  const id = reader.u16();
  const word = reader.u16();
  const counts = { qd: reader.u16(), an: reader.u16(), ns: reader.u16(), ar: reader.u16() };
  const question: Question[] = [];
  for (let i = 0; i < counts.qd; i++) {
    const name = reader.name();
    const type = reader.u16();
    const qclass = reader.u16();
    question.push({ name, type: typeName(type), qclass });
  }
  const section = (count: number): ResourceRecord[] => {
    const out: ResourceRecord[] = [];
    for (let i = 0; i < count; i++) out.push(readRecord(reader).record);
    return out;
  };
  const answer = section(counts.an);
  const authority = section(counts.ns);
  const additionalAll = section(counts.ar);
  if (reader.offset !== buf.length) throw new ParseError(`${buf.length - reader.offset} bytes after the last record`);
  const opts = additionalAll.filter((r) => r.typeCode === TYPES.OPT);
  if (opts.length > 1) throw new ParseError('more than one OPT record');
  const opt = opts[0] ? parseOpt(opts[0]) : null;
  if (opts[0] && opts[0].name !== '.') throw new ParseError('OPT owner is not the root');
  const headerRcode = word & 0xf;
  const rcode = (opt ? opt.extendedRcode << 4 : 0) | headerRcode;
  return {
    id,
    opcode: (word >> 11) & 0xf,
    flags: {
      qr: (word & 0x8000) !== 0,
      aa: (word & 0x0400) !== 0,
      tc: (word & 0x0200) !== 0,
      rd: (word & 0x0100) !== 0,
      ra: (word & 0x0080) !== 0,
      z: (word & 0x0040) !== 0,
      ad: (word & 0x0020) !== 0,
      cd: (word & 0x0010) !== 0,
    },
    rcode,
    rcodeName: rcodeName(rcode),
    headerRcode,
    counts,
    question,
    answer,
    authority,
    additional: additionalAll.filter((r) => r.typeCode !== TYPES.OPT),
    opt,
    size: buf.length,
    raw: buf,
  };
}

/** "owner. TTL IN TYPE data", the way dig prints a record (single spaces). */
export function formatRecord(record: ResourceRecord): string {
  const cls = record.rclass === 1 ? 'IN' : `CLASS${record.rclass}`;
  return `${record.name} ${record.ttl} ${cls} ${record.type} ${record.data}`;
}

export function formatSection(records: readonly ResourceRecord[]): string[] {
  return records.map(formatRecord);
}

// ---- transports ----------------------------------------------------------------------------

function family(host: string): 'udp4' | 'udp6' {
  return isIP(host) === 6 ? 'udp6' : 'udp4';
}

/**
 * Sends one datagram and waits for the first reply (from the server's address and port).
 * Rejects after `timeoutMs` without one.
 */
export function sendUdp(address: Address, message: Buffer, timeoutMs = 2000): Promise<Buffer> {
  return sendUdpMaybe(address, message, timeoutMs).then((reply) => {
    if (reply === null) throw new Error(`no UDP reply from ${address.host}:${address.port} within ${timeoutMs} ms`);
    return reply;
  });
}

/** Like sendUdp, but resolves null when nothing comes back within `waitMs` (for "is dropped" tests). */
export function sendUdpMaybe(address: Address, message: Buffer, waitMs = 500): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(family(address.host));
    let settled = false;
    const finish = (value: Buffer | null, error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(null), waitMs);
    socket.on('message', (reply, remote) => {
      if (remote.port === address.port) finish(reply);
    });
    socket.on('error', (error) => finish(null, error));
    socket.send(message, address.port, address.host, (error) => {
      if (error) finish(null, error);
    });
  });
}

/** A 2-byte length prefix (RFC 1035 §4.2.2) followed by the message. */
export function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(message.length, 0);
  return Buffer.concat([head, message]);
}

/**
 * One TCP connection that reads length-framed messages. `next()` resolves with the next
 * whole message; `closed` resolves when the peer (or we) closed the connection.
 */
export class TcpConnection {
  private pending = Buffer.alloc(0);
  private readonly messages: Buffer[] = [];
  private waiters: { resolve: (m: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  /** True once the connection has closed, whoever closed it. */
  isClosed = false;
  readonly closed: Promise<void>;
  /** Raw bytes received (for framing checks). */
  readonly received: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error('connection closed before a reply'));
        }
        resolve();
      });
    });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 2) {
        const length = this.pending.readUInt16BE(0);
        if (this.pending.length < 2 + length) break;
        const message = Buffer.from(this.pending.subarray(2, 2 + length));
        this.pending = this.pending.subarray(2 + length);
        const waiter = this.waiters.shift();
        if (waiter) {
          clearTimeout(waiter.timer);
          waiter.resolve(message);
        } else this.messages.push(message);
      }
    });
  }

  /** Connects; rejects when the connection cannot be made within `timeoutMs`. */
  static open(address: Address, timeoutMs = 2000): Promise<TcpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address.host, port: address.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`TCP connect to ${address.host}:${address.port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new TcpConnection(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** Writes raw bytes (no framing added). */
  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.destroyed) {
        reject(new Error('connection is closed'));
        return;
      }
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Writes each message with its length prefix, all in one write (pipelining). */
  send(...messages: Buffer[]): Promise<void> {
    return this.write(Buffer.concat(messages.map(frame)));
  }

  /** The next whole message, or a rejection after `timeoutMs` or on close. */
  next(timeoutMs = 2000): Promise<Buffer> {
    const ready = this.messages.shift();
    if (ready) return Promise.resolve(ready);
    if (this.isClosed) return Promise.reject(new Error('connection closed before a reply'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no TCP reply within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Resolves true when the connection closes within `timeoutMs`, else false. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([this.closed.then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface SendTcpOptions {
  timeoutMs?: number;
  /** Write the stream in pieces of this many bytes (1 = byte by byte), pausing `pauseMs` between. */
  chunkSize?: number;
  pauseMs?: number;
}

/**
 * Sends several queries on one connection (pipelined in one write unless chunkSize is set) and
 * returns the replies in the order they arrived.
 */
export async function sendTcp(address: Address, messages: Buffer[], options: SendTcpOptions = {}): Promise<Buffer[]> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const connection = await TcpConnection.open(address, timeoutMs);
  try {
    const stream = Buffer.concat(messages.map(frame));
    if (options.chunkSize === undefined) await connection.write(stream);
    else {
      for (let offset = 0; offset < stream.length; offset += options.chunkSize) {
        await connection.write(stream.subarray(offset, offset + options.chunkSize));
        if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
      }
    }
    const replies: Buffer[] = [];
    for (let i = 0; i < messages.length; i++) replies.push(await connection.next(timeoutMs));
    return replies;
  } finally {
    connection.close();
  }
}

export interface QueryCallOptions extends QueryOptions {
  tcp?: boolean;
  timeoutMs?: number;
}

/** Builds a query, sends it over UDP (or TCP), and parses the reply. Checks the ID matches. */
export async function query(address: Address, name: string, type: string | number, options: QueryCallOptions = {}): Promise<ParsedResponse> {
  const id = options.id ?? freshId();
  const message = buildQuery({ ...options, id, name, type });
  const raw = options.tcp ? (await sendTcp(address, [message], { timeoutMs: options.timeoutMs }))[0]! : await sendUdp(address, message, options.timeoutMs);
  const response = parseResponse(raw);
  if (response.id !== id) throw new Error(`reply ID ${response.id} does not match query ID ${id}`);
  return response;
}

/** Sorted presentation lines of a section: for answers whose order is random. */
export function sortedLines(records: readonly ResourceRecord[]): string[] {
  return formatSection(records).sort();
}
