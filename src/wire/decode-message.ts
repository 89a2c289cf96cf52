/**
 * The response side of the message codec: decodes a whole DNS message (header, questions, the
 * three record sections, the OPT record with its options, Client Subnet and NSID read out) into
 * presentation form, as dig shows it; each record's RDATA is presented by the caller's
 * `RDataPresenter` (src/records has one for every served type). For `explain`, the tests and the
 * benchmark: it is strict (a malformed message throws MessageFormatError, trailing bytes
 * included) and allocates freely, so the server's query path uses `decodeQuery` instead, which
 * shares its name rules.
 */
import { ipv4Text, ipv6Text } from './address-text.js';
import { DO_BIT, EcsFamily, EdnsOption, HEADER_SIZE, OPCODE_MASK, OPCODE_SHIFT, rcodeName, rrClassName, rrTypeName, RRType } from './dns-constants.js';
import { headerFlags, type EdnsOptionData, type HeaderFlags } from './encode-query.js';
import { readName } from './names.js';
import { presentRDataOf, RDataError, type RDataPresenter } from './rdata-cursor.js';

export class MessageFormatError extends Error {}

export interface DecodedQuestion {
  /** Presentation form with the final dot, case as sent. */
  name: string;
  /** Type name ("A", "TYPE65280"). */
  type: string;
  qclass: number;
}

export interface DecodedRecord {
  /** Owner in presentation form with the final dot, case as sent. */
  name: string;
  /** Type name ("A", "TYPE65280"). */
  type: string;
  typeCode: number;
  rclass: number;
  ttl: number;
  /** RDATA as dig prints it ("" for OPT, whose content is in DecodedOpt). */
  data: string;
  /** The RDATA bytes (a view into the message) and their offset in it. */
  rdata: Buffer;
  rdataOffset: number;
}

/** A Client Subnet option as found (RFC 7871 §6); `address` has the missing bytes as zeros. */
export interface DecodedClientSubnet {
  /** 1 IPv4, 2 IPv6 (the FAMILY field). */
  family: number;
  source: number;
  scope: number;
  address: string;
}

/** The OPT record (RFC 6891 §6.1), field by field. */
export interface DecodedOpt {
  udpSize: number;
  extendedRcode: number;
  version: number;
  do: boolean;
  /** The whole 16-bit flags field (DO and the Z bits). */
  flags: number;
  options: EdnsOptionData[];
  ecs?: DecodedClientSubnet;
  /** The NSID option's payload as UTF-8 text. */
  nsid?: string;
}

export interface DecodedMessage {
  id: number;
  opcode: number;
  flags: HeaderFlags;
  /** The full rcode: the header's 4 bits and the OPT's upper 8 bits. */
  rcode: number;
  rcodeName: string;
  /** The rcode bits in the header alone. */
  headerRcode: number;
  counts: { qd: number; an: number; ns: number; ar: number };
  question: DecodedQuestion[];
  answer: DecodedRecord[];
  authority: DecodedRecord[];
  /** The additional section without the OPT record. */
  additional: DecodedRecord[];
  opt: DecodedOpt | null;
  /** Message length in bytes. */
  size: number;
  raw: Buffer;
}

/** Reads the message front to back; every read checks its length first. */
class MessageReader {
  offset = HEADER_SIZE;

  constructor(
    readonly message: Buffer,
    private readonly present: RDataPresenter,
  ) {}

  need(n: number, what: string): void {
    if (this.offset + n > this.message.length) throw new MessageFormatError(`${what} runs past the end of the ${this.message.length}-byte message`);
  }

  name(what: string): string {
    const read = readName(this.message, this.offset);
    if (typeof read === 'string') throw new MessageFormatError(`${what}: bad name at offset ${this.offset} (${read})`);
    this.offset = read.end;
    return read.name;
  }

  question(): DecodedQuestion {
    const name = this.name('question');
    this.need(4, 'question');
    const type = this.message.readUInt16BE(this.offset);
    const qclass = this.message.readUInt16BE(this.offset + 2);
    this.offset += 4;
    return { name, type: rrTypeName(type), qclass };
  }

  record(section: string): DecodedRecord {
    const name = this.name(section);
    this.need(10, `${section} record`);
    const at = this.offset;
    const typeCode = this.message.readUInt16BE(at);
    const rclass = this.message.readUInt16BE(at + 2);
    const ttl = this.message.readUInt32BE(at + 4);
    const rdlength = this.message.readUInt16BE(at + 8);
    this.offset += 10;
    this.need(rdlength, `${section} ${rrTypeName(typeCode)} RDATA`);
    const rdataOffset = this.offset;
    let data = '';
    if (typeCode !== RRType.OPT) {
      try {
        data = presentRDataOf(typeCode, this.message, rdataOffset, rdlength, this.present);
      } catch (error) {
        if (error instanceof RDataError) throw new MessageFormatError(`${section} ${rrTypeName(typeCode)} at offset ${rdataOffset}: ${error.message}`);
        throw error;
      }
    }
    this.offset += rdlength;
    const rdata = this.message.subarray(rdataOffset, this.offset);
    return { name, type: rrTypeName(typeCode), typeCode, rclass, ttl, data, rdata, rdataOffset };
  }

  section(count: number, section: string): DecodedRecord[] {
    const records: DecodedRecord[] = [];
    for (let i = 0; i < count; i++) records.push(this.record(section));
    return records;
  }
}

function decodeClientSubnet(data: Buffer): DecodedClientSubnet | undefined {
  if (data.length < 4) return undefined;
  const family = data.readUInt16BE(0);
  const width = family === EcsFamily.IPV4 ? 4 : family === EcsFamily.IPV6 ? 16 : 0;
  if (width === 0 || data.length - 4 > width) return undefined;
  const full = Buffer.alloc(width);
  data.copy(full, 0, 4);
  return { family, source: data[2]!, scope: data[3]!, address: width === 4 ? ipv4Text(full) : ipv6Text(full) };
}

function decodeOpt(record: DecodedRecord): DecodedOpt {
  if (record.name !== '.') throw new MessageFormatError('the OPT record is not owned by the root');
  const options: EdnsOptionData[] = [];
  const rdata = record.rdata;
  for (let offset = 0; offset < rdata.length; ) {
    if (offset + 4 > rdata.length) throw new MessageFormatError('an OPT option header runs past RDATA');
    const length = rdata.readUInt16BE(offset + 2);
    if (offset + 4 + length > rdata.length) throw new MessageFormatError('an OPT option runs past RDATA');
    options.push({ code: rdata.readUInt16BE(offset), data: Buffer.from(rdata.subarray(offset + 4, offset + 4 + length)) });
    offset += 4 + length;
  }
  const opt: DecodedOpt = {
    udpSize: record.rclass,
    extendedRcode: record.ttl >>> 24,
    version: (record.ttl >>> 16) & 0xff,
    do: (record.ttl & DO_BIT) !== 0,
    flags: record.ttl & 0xffff,
    options,
  };
  for (const option of options) {
    if (option.code === EdnsOption.NSID) opt.nsid = option.data.toString('utf8');
    else if (option.code === EdnsOption.CLIENT_SUBNET) {
      const ecs = decodeClientSubnet(option.data);
      if (ecs === undefined) throw new MessageFormatError('a malformed Client Subnet option');
      opt.ecs = ecs;
    }
  }
  return opt;
}

/**
 * Decodes a whole message, each record's RDATA through `presentRData`; throws MessageFormatError
 * on anything malformed.
 */
export function decodeMessage(message: Buffer, presentRData: RDataPresenter): DecodedMessage {
  if (message.length < HEADER_SIZE) throw new MessageFormatError(`a ${message.length}-byte message is shorter than the header`);
  const word = message.readUInt16BE(2);
  const counts = { qd: message.readUInt16BE(4), an: message.readUInt16BE(6), ns: message.readUInt16BE(8), ar: message.readUInt16BE(10) };
  const reader = new MessageReader(message, presentRData);
  const question: DecodedQuestion[] = [];
  for (let i = 0; i < counts.qd; i++) question.push(reader.question());
  const answer = reader.section(counts.an, 'answer');
  const authority = reader.section(counts.ns, 'authority');
  const additional = reader.section(counts.ar, 'additional');
  if (reader.offset !== message.length) throw new MessageFormatError(`${message.length - reader.offset} bytes after the last record`);
  for (const section of [answer, authority]) {
    if (section.some((r) => r.typeCode === RRType.OPT)) throw new MessageFormatError('an OPT record outside the additional section');
  }
  const opts = additional.filter((r) => r.typeCode === RRType.OPT);
  if (opts.length > 1) throw new MessageFormatError('more than one OPT record');
  const opt = opts.length === 1 ? decodeOpt(opts[0]!) : null;
  const headerRcode = word & 0xf;
  const rcode = ((opt?.extendedRcode ?? 0) << 4) | headerRcode;
  return {
    id: message.readUInt16BE(0),
    opcode: (word & OPCODE_MASK) >> OPCODE_SHIFT,
    flags: headerFlags(word),
    rcode,
    rcodeName: rcodeName(rcode),
    headerRcode,
    counts,
    question,
    answer,
    authority,
    additional: opt === null ? additional : additional.filter((r) => r.typeCode !== RRType.OPT),
    opt,
    size: message.length,
    raw: message,
  };
}

/** "owner. TTL CLASS TYPE data", one record as dig prints it (single spaces). */
export function formatRecord(record: DecodedRecord): string {
  return `${record.name} ${record.ttl} ${rrClassName(record.rclass)} ${record.type} ${record.data}`;
}
