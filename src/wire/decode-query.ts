/**
 * Reads a request by hand, in stages (header, question, other sections, OPT), and yields a
 * Query, a rejection with the one rcode that applies, or a drop. It never throws: every
 * length is checked before it is read, so any byte string is safe to hand it.
 *
 * The query path decodes with a `QueryDecoder`, which allocates nothing per request: it fills the
 * same result, Query, Edns and ClientSubnet objects every time (valid until its next `decode`),
 * reads the ECS address from the packet where it lies, and hands back the lower-cased name as a
 * string it already holds when the same name was asked before (`NameTable`). `decodeQuery` is the
 * one-off form for everything else (explain, tests): fresh objects that may be kept. What it
 * yields is described in query.ts.
 */
import { CLASSIC_UDP_LIMIT, DO_BIT, EcsFamily, EdnsOption, Flag, HEADER_SIZE, OPCODE_MASK, OPCODE_SHIFT, Opcode, Rcode, RRClass, RRType } from './dns-constants.js';
import { BAD_NAME, MAX_LABEL_LENGTH, MAX_NAME_WIRE_LENGTH, skipName } from './names.js';
import type { ClientSubnet, DecodeResult, Edns, Query, Rejection, TsigRecord, Transport } from './query.js';

// Module-local copies of the shared constants this file reads per label and per request: measured
// with bench/answer-path.ts, they answer 3-8 % faster than reading the imported bindings.
const LABEL_LIMIT = MAX_LABEL_LENGTH;
const NAME_LIMIT = MAX_NAME_WIRE_LENGTH;
const BAD = BAD_NAME;
const OPCODE_BITS = OPCODE_MASK;
const OPCODE_AT = OPCODE_SHIFT;
const QUERY = Opcode.QUERY;
const ECS_IPV4 = EcsFamily.IPV4;
const ECS_IPV6 = EcsFamily.IPV6;
/** The DO bit within the first byte of the OPT flags. */
const DO_IN_FIRST_BYTE = DO_BIT >> 8;
/** RFC 7873 §4: COOKIE option lengths. */
const COOKIE_CLIENT_ONLY = 8;
const COOKIE_MIN_WITH_SERVER = 16;
const COOKIE_MAX = 40;

/** Slots of a decoder's NameTable: the distinct names a server is asked for most. */
const NAME_TABLE_SLOTS = 4096;

/**
 * Lower-cased question names as strings, found by the hash of their bytes: a name asked before
 * comes back as the string made the first time, so decoding it allocates nothing (and its hash,
 * which the zone lookups need, is already computed). One slot per hash, newest name wins: a
 * flood of random names costs what it did before the table, one string per request.
 */
class NameTable {
  private readonly names: (string | undefined)[] = new Array<string | undefined>(NAME_TABLE_SLOTS).fill(undefined);
  /** The name being read, lower-cased, a dot between labels. */
  readonly scratch = Buffer.allocUnsafe(NAME_LIMIT + 1);

  /** The string of scratch[0, length), whose FNV-1a hash is `hash`. */
  intern(length: number, hash: number): string {
    const slot = hash & (NAME_TABLE_SLOTS - 1);
    const known = this.names[slot];
    const scratch = this.scratch;
    if (known !== undefined && known.length === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (known.charCodeAt(i) !== scratch[i]) {
          same = false;
          break;
        }
      }
      if (same) return known;
    }
    const name = scratch.toString('latin1', 0, length);
    this.names[slot] = name;
    return name;
  }
}

/**
 * Reads the question name into `table.scratch` (no compression is allowed this early in a
 * message) and returns where it ends, or BAD; `decoded.lowerName` is set.
 */
function readQuestionName(packet: Buffer, offset: number, table: NameTable, decoded: { lowerName: string }): number {
  const scratch = table.scratch;
  let written = 0;
  let wireLength = 1;
  let hash = 0x811c9dc5;
  for (;;) {
    if (offset >= packet.length) return BAD;
    const labelLength = packet[offset]!;
    if (labelLength === 0) {
      offset += 1;
      break;
    }
    if (labelLength > LABEL_LIMIT) return BAD; // a pointer or reserved label type in the question
    wireLength += labelLength + 1;
    if (wireLength > NAME_LIMIT || offset + 1 + labelLength > packet.length) return BAD;
    if (written > 0) {
      scratch[written++] = 0x2e;
      hash = Math.imul(hash ^ 0x2e, 0x01000193);
    }
    for (let i = offset + 1, end = offset + 1 + labelLength; i < end; i++) {
      let byte = packet[i]!;
      if (byte >= 0x41 && byte <= 0x5a) byte |= 0x20;
      // A dot inside a label must not read as a label boundary; no zone name holds a NUL.
      else if (byte === 0x2e) byte = 0;
      scratch[written++] = byte;
      hash = Math.imul(hash ^ byte, 0x01000193);
    }
    offset += 1 + labelLength;
  }
  decoded.lowerName = table.intern(written, hash >>> 0);
  return offset;
}

/**
 * ECS addresses as text, by their 32-bit value. Resolvers repeat a bounded set of /24s, and
 * building "a.b.c.d" from four numbers costs more than the rest of decoding; a string that comes
 * back is also one whose hash is already known to the geo memo downstream.
 */
const IPV4_TEXT_ENTRIES = 65_536;
/** The same bound for IPv6 texts. */
const IPV6_TEXT_ENTRIES = 65_536;
let ipv4Texts = new Map<number, string>();

/** ADDRESS bytes as text; bytes past the sent ones are zero (RFC 7871 §6 leaves them out). */
function formatIPv4(packet: Buffer, offset: number, length: number): string {
  let value = 0;
  for (let i = 0; i < 4; i++) value = value * 256 + (i < length ? packet[offset + i]! : 0);
  let text = ipv4Texts.get(value);
  if (text === undefined) {
    text = `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
    if (ipv4Texts.size >= IPV4_TEXT_ENTRIES) ipv4Texts = new Map();
    ipv4Texts.set(value, text);
  }
  return text;
}

function ipv6GroupsText(packet: Buffer, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < 16; i += 2) {
    const group = ((i < length ? packet[offset + i]! : 0) << 8) | (i + 1 < length ? packet[offset + i + 1]! : 0);
    text += i === 0 ? group.toString(16) : `:${group.toString(16)}`;
  }
  return text;
}

// IPv6 ECS subnets are /56 or /48 in practice: the 64 leading bits, as two 32-bit halves, key them.
let ipv6Texts = new Map<number, Map<number, string>>();
let ipv6TextCount = 0;

function formatIPv6(packet: Buffer, offset: number, length: number): string {
  if (length > 8) return ipv6GroupsText(packet, offset, length);
  let high = 0;
  let low = 0;
  for (let i = 0; i < 4; i++) high = high * 256 + (i < length ? packet[offset + i]! : 0);
  for (let i = 4; i < 8; i++) low = low * 256 + (i < length ? packet[offset + i]! : 0);
  let byLow = ipv6Texts.get(high);
  let text = byLow?.get(low);
  if (text === undefined) {
    text = ipv6GroupsText(packet, offset, length);
    if (ipv6TextCount >= IPV6_TEXT_ENTRIES) {
      ipv6Texts = new Map();
      ipv6TextCount = 0;
      byLow = undefined;
    }
    if (byLow === undefined) ipv6Texts.set(high, (byLow = new Map()));
    byLow.set(low, text);
    ipv6TextCount++;
  }
  return text;
}

/** RFC 7871 §6: validates an ECS option into `into`; null means FORMERR. */
function readClientSubnet(packet: Buffer, offset: number, length: number, into: ClientSubnet): ClientSubnet | null {
  if (length < 4) return null;
  const familyCode = packet.readUInt16BE(offset);
  const sourcePrefix = packet[offset + 2]!;
  const scopePrefix = packet[offset + 3]!;
  const family = familyCode === ECS_IPV4 ? 4 : familyCode === ECS_IPV6 ? 6 : 0;
  if (family === 0) return null;
  const maxPrefix = family === 4 ? 32 : 128;
  // §6: SCOPE PREFIX-LENGTH MUST be 0 in queries; ADDRESS is exactly ceil(SOURCE/8) octets.
  if (sourcePrefix > maxPrefix || scopePrefix !== 0) return null;
  const addressLength = Math.ceil(sourcePrefix / 8);
  if (length !== 4 + addressLength) return null;
  const at = offset + 4;
  // §6: bits beyond SOURCE PREFIX-LENGTH MUST be zero.
  if (sourcePrefix % 8 !== 0 && addressLength > 0) {
    const mask = 0xff >> (sourcePrefix % 8);
    if ((packet[at + addressLength - 1]! & mask) !== 0) return null;
  }
  into.family = family;
  into.sourcePrefix = sourcePrefix;
  into.address = family === 4 ? formatIPv4(packet, at, addressLength) : formatIPv6(packet, at, addressLength);
  into.addressAt = at;
  into.addressLength = addressLength;
  return into;
}


/** What readOpt found. `BAD_OPTION`: the OPT record is sound but an option in it is malformed. */
const OPT_OK = 0;
/**
 * That is FORMERR with the OPT still echoed (RFC 6891 §7), unlike a broken OPT record
 * (`OPT_FORMERR`), which gets none (as Knot answers).
 */
const OPT_BAD_OPTION = 1;
const OPT_FORMERR = 2;

/**
 * Reads an OPT record into `edns` (every field written; `subnet` is the object its clientSubnet
 * points at when the request has one).
 */
function readOpt(packet: Buffer, classOffset: number, rdataStart: number, rdataEnd: number, edns: Edns, subnet: ClientSubnet): number {
  const udpPayloadSize = packet.readUInt16BE(classOffset);
  const version = packet[classOffset + 3]!;
  let clientSubnet: ClientSubnet | null = null;
  let nsidRequested = false;
  let cookieAt = -1;
  let cookieLength = 0;
  let badOption = false;
  let offset = rdataStart;
  while (offset < rdataEnd) {
    if (offset + 4 > rdataEnd) return OPT_FORMERR;
    const code = packet.readUInt16BE(offset);
    const length = packet.readUInt16BE(offset + 2);
    const dataStart = offset + 4;
    if (dataStart + length > rdataEnd) return OPT_FORMERR;
    if (code === EdnsOption.CLIENT_SUBNET && version === 0 && !badOption) {
      // A second ECS option is as malformed as a bad one; neither is echoed.
      const read: ClientSubnet | null = clientSubnet === null ? readClientSubnet(packet, dataStart, length, subnet) : null;
      if (read === null) {
        badOption = true;
        clientSubnet = null;
      } else clientSubnet = read;
    } else if (code === EdnsOption.NSID) {
      nsidRequested = true;
    } else if (code === EdnsOption.COOKIE && version === 0) {
      // RFC 7873 §5.2.2: an 8-byte client cookie, alone or with an 8 to 32-byte server cookie;
      // any other length is FORMERR. Of several COOKIE options the last counts, as Knot reads them.
      if (length === COOKIE_CLIENT_ONLY || (length >= COOKIE_MIN_WITH_SERVER && length <= COOKIE_MAX)) {
        cookieAt = dataStart;
        cookieLength = length;
      } else badOption = true;
    }
    // RFC 6891 §6.1.2: unknown options are ignored.
    offset = dataStart + length;
  }
  // RFC 6891 §6.2.5: values below 512 are treated as 512.
  edns.udpPayloadSize = udpPayloadSize < CLASSIC_UDP_LIMIT ? CLASSIC_UDP_LIMIT : udpPayloadSize;
  edns.version = version;
  edns.dnssecOk = (packet[classOffset + 4]! & DO_IN_FIRST_BYTE) !== 0;
  edns.clientSubnet = clientSubnet;
  edns.nsidRequested = nsidRequested;
  edns.cookieAt = cookieAt;
  edns.cookieLength = cookieLength;
  return badOption ? OPT_BAD_OPTION : OPT_OK;
}

/** A name written without compression, ending at or before `end`; BAD when it is not one. */
function skipUncompressedName(packet: Buffer, offset: number, end: number): number {
  for (let length = 1; offset < end; ) {
    const labelLength = packet[offset]!;
    if (labelLength === 0) return offset + 1;
    length += labelLength + 1;
    if (labelLength > LABEL_LIMIT || length > NAME_LIMIT) return BAD;
    offset += 1 + labelLength;
  }
  return BAD;
}

/**
 * RFC 8945 §4.2: a TSIG record (class ANY, TTL 0) owned by its key name, whose RDATA is the
 * algorithm name, Time Signed, Fudge, the MAC, Original ID, Error and Other Data. Null when
 * malformed. Its owner is echoed as sent, so a compression pointer must point into the question.
 */
function readTsig(packet: Buffer, ownerStart: number, ownerEnd: number, rrAt: number, rdataEnd: number, questionEnd: number): TsigRecord | null {
  if (packet.readUInt16BE(rrAt + 2) !== RRClass.ANY) return null;
  let at = ownerStart;
  while (packet[at]! !== 0 && packet[at]! < 0xc0) at += packet[at]! + 1;
  if (packet[at]! >= 0xc0 && (((packet[at]! & 0x3f) << 8) | packet[at + 1]!) >= questionEnd) return null;
  const rdataStart = rrAt + 10;
  const algorithmEnd = skipUncompressedName(packet, rdataStart, rdataEnd);
  if (algorithmEnd === BAD || algorithmEnd + 10 > rdataEnd) return null;
  const originalIdAt = algorithmEnd + 10 + packet.readUInt16BE(algorithmEnd + 8);
  if (originalIdAt + 6 > rdataEnd || originalIdAt + 6 + packet.readUInt16BE(originalIdAt + 4) !== rdataEnd) return null;
  return { ownerStart, ownerEnd, rdataStart, algorithmEnd };
}

const SHORT: DecodeResult = { kind: 'drop', reason: 'short' };
const RESPONSE: DecodeResult = { kind: 'drop', reason: 'response' };

/** What one decode fills: the objects a QueryDecoder reuses, or fresh ones for decodeQuery. */
interface DecodeTargets {
  readonly names: NameTable;
  readonly query: Query;
  readonly accepted: { kind: 'query'; query: Query };
  readonly rejection: Rejection;
  readonly rejected: { kind: 'reject'; rejection: Rejection };
  readonly edns: Edns;
  readonly subnet: ClientSubnet;
}

function newTargets(names: NameTable): DecodeTargets {
  const query: Query = { id: 0, requestFlags: 0, lowerName: '', type: 0, qclass: 0, packet: EMPTY_PACKET, questionEnd: 0, edns: null, tsig: null, transport: 'udp', serverCookie: null };
  const rejection: Rejection = { rcode: 0, id: 0, requestFlags: 0, packet: EMPTY_PACKET, questionEnd: 0, edns: null };
  return {
    names,
    query,
    accepted: { kind: 'query', query },
    rejection,
    rejected: { kind: 'reject', rejection },
    edns: { udpPayloadSize: 0, version: 0, dnssecOk: false, clientSubnet: null, nsidRequested: false, cookieAt: -1, cookieLength: 0 },
    subnet: { family: 4, sourcePrefix: 0, address: '', addressAt: 0, addressLength: 0 },
  };
}

const EMPTY_PACKET = Buffer.alloc(0);

function reject(targets: DecodeTargets, rcode: number, packet: Buffer, questionEnd: number, edns: Edns | null): DecodeResult {
  const rejection = targets.rejection;
  rejection.rcode = rcode;
  rejection.id = packet.readUInt16BE(0);
  rejection.requestFlags = packet.readUInt16BE(2);
  rejection.packet = packet;
  rejection.questionEnd = questionEnd;
  rejection.edns = edns;
  return targets.rejected;
}

/**
 * The query path's decoder: one per packet handler. Its results (and the Query, Edns and
 * ClientSubnet in them) are the same objects on every call, overwritten by the next `decode`:
 * read them before decoding again, and copy what must outlive the answer. A field added to
 * Query or Edns is set on every decode, so nothing of the previous request shows through.
 */
export class QueryDecoder {
  private readonly targets = newTargets(new NameTable());

  decode(packet: Buffer, transport: Transport): DecodeResult {
    return decodeInto(this.targets, packet, transport);
  }
}

/** The names of one-off decodes: a string can be shared by any number of results. */
const oneOffNames = new NameTable();

/** Decodes one request into fresh objects, which the caller may keep. */
export function decodeQuery(packet: Buffer, transport: Transport): DecodeResult {
  return decodeInto(newTargets(oneOffNames), packet, transport);
}

/** Decodes one request. Responses (QR=1) and packets shorter than a header are dropped. */
function decodeInto(targets: DecodeTargets, packet: Buffer, transport: Transport): DecodeResult {
  if (packet.length < HEADER_SIZE) return SHORT;
  const flags = packet.readUInt16BE(2);
  // Never answer a response: that is how reflection loops between servers start.
  if ((flags & Flag.QR) !== 0) return RESPONSE;
  const qdcount = packet.readUInt16BE(4);
  const ancount = packet.readUInt16BE(6);
  const nscount = packet.readUInt16BE(8);
  const arcount = packet.readUInt16BE(10);

  const opcode = (flags & OPCODE_BITS) >> OPCODE_AT;
  if (qdcount !== 1) return reject(targets, opcode === QUERY ? Rcode.FORMERR : Rcode.NOTIMP, packet, 0, null);
  const query = targets.query;
  const nameEnd = readQuestionName(packet, HEADER_SIZE, targets.names, query);
  if (nameEnd === BAD || nameEnd + 4 > packet.length) return reject(targets, Rcode.FORMERR, packet, 0, null);
  const type = packet.readUInt16BE(nameEnd);
  const qclass = packet.readUInt16BE(nameEnd + 2);
  const questionEnd = nameEnd + 4;

  // Skip answer and authority records (a plain query has none), then look for OPT.
  let offset = questionEnd;
  for (let i = 0; i < ancount + nscount; i++) {
    offset = skipName(packet, offset);
    if (offset === BAD || offset + 10 > packet.length) return reject(targets, Rcode.FORMERR, packet, questionEnd, null);
    // RFC 6891 §6.1.1: OPT belongs in the additional section only (Knot and NSD say FORMERR too).
    if (packet.readUInt16BE(offset) === RRType.OPT) return reject(targets, Rcode.FORMERR, packet, questionEnd, null);
    const rdataEnd = offset + 10 + packet.readUInt16BE(offset + 8);
    if (rdataEnd > packet.length) return reject(targets, Rcode.FORMERR, packet, questionEnd, null);
    offset = rdataEnd;
  }
  let edns: Edns | null = null;
  let optSeen = false;
  let optMalformed = false;
  let tsig: TsigRecord | null = null;
  let tsigMalformed = false;
  for (let i = 0; i < arcount; i++) {
    const nameStart = offset;
    offset = skipName(packet, offset);
    if (offset === BAD || offset + 10 > packet.length) return reject(targets, Rcode.FORMERR, packet, questionEnd, edns);
    const rrType = packet.readUInt16BE(offset);
    const rdataStart = offset + 10;
    const rdataEnd = rdataStart + packet.readUInt16BE(offset + 8);
    if (rdataEnd > packet.length) return reject(targets, Rcode.FORMERR, packet, questionEnd, edns);
    if (rrType === RRType.OPT) {
      // RFC 6891 §6.1.1: one OPT only, owned by the root.
      if (optSeen || offset - nameStart !== 1 || packet[nameStart] !== 0) optMalformed = true;
      else {
        const opt = readOpt(packet, offset + 2, rdataStart, rdataEnd, targets.edns, targets.subnet);
        if (opt === OPT_FORMERR) optMalformed = true;
        else {
          edns = targets.edns;
          if (opt === OPT_BAD_OPTION) optMalformed = true;
        }
      }
      optSeen = true;
    } else if (rrType === RRType.TSIG) {
      // RFC 8945 §5.1: the TSIG record is the last one in the message.
      tsig = i === arcount - 1 ? readTsig(packet, nameStart, offset, offset, rdataEnd, questionEnd) : null;
      if (tsig === null) tsigMalformed = true;
    }
    offset = rdataEnd;
  }
  if (offset !== packet.length || optMalformed || tsigMalformed) return reject(targets, Rcode.FORMERR, packet, questionEnd, edns);
  if (opcode !== QUERY) return reject(targets, Rcode.NOTIMP, packet, questionEnd, edns);
  // RFC 6891 §6.1.3: a version we do not implement gets BADVERS, answered at our version (0).
  if (edns !== null && edns.version !== 0) return reject(targets, Rcode.BADVERS, packet, questionEnd, edns);
  // Meta types other than ANY cannot be asked for (RFC 6895 §3.1); OPT as a question is malformed.
  if (type === RRType.OPT) return reject(targets, Rcode.FORMERR, packet, questionEnd, edns);
  // RFC 9824 §3.5: an explicit query for NXNAME MUST get FORMERR.
  if (type === RRType.NXNAME) return reject(targets, Rcode.FORMERR, packet, questionEnd, edns);

  query.id = packet.readUInt16BE(0);
  query.requestFlags = flags;
  query.type = type;
  query.qclass = qclass;
  query.packet = packet;
  query.questionEnd = questionEnd;
  query.edns = edns;
  query.tsig = tsig;
  query.transport = transport;
  query.serverCookie = null;
  return targets.accepted;
}
