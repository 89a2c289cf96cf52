/**
 * Assembles a response from pre-encoded records: header, the question copied from the request
 * (case intact), the sections, and an OPT record when the request had one. Anything that does
 * not fit the client's limit is left out with TC=1; the OPT record always stays (RFC 6891 §7).
 *
 * The query path writes each response into an output buffer its socket reuses (`writeResponse`,
 * `writeRejection`, `writeServerFailure`: they return the length and allocate nothing); the
 * `encode…` forms return a Buffer of its own, for everything else (explain, tests).
 */
import {
  CLASSIC_UDP_LIMIT,
  DO_BIT,
  EcsFamily,
  EdnsOption,
  Flag,
  HEADER_SIZE,
  OPCODE_MASK,
  OPT_FIXED_SIZE,
  Rcode,
  RRClass,
  RRType,
  SERVER_UDP_PAYLOAD,
  TCP_MESSAGE_LIMIT,
  TsigError,
} from './dns-constants.js';

// Module-local copies of shared constants read per answer (see decode-query.ts).
const OPCODE_BITS = OPCODE_MASK;
const ECS_IPV4 = EcsFamily.IPV4;
const ECS_IPV6 = EcsFamily.IPV6;
/** The DO bit within the first byte of the OPT flags. */
const DO_IN_FIRST_BYTE = DO_BIT >> 8;
import type { Edns, Query, Rejection, TsigRecord } from './query.js';

/** What the answer layer hands to the encoder: complete records, in answer order. */
export interface ResponseSections {
  rcode: number;
  authoritative: boolean;
  answer: readonly Buffer[];
  authority: readonly Buffer[];
  /** Records the answer needs (glue of a referral): if they do not fit, the response is truncated. */
  additional: readonly Buffer[];
  /** Helpful extras (addresses of MX/SRV/NS targets): dropped first when space is short. */
  extraAdditional: readonly Buffer[];
  /** ECS SCOPE PREFIX-LENGTH to echo (RFC 7871 §7.2.1); 0 when the answer does not depend on the client. */
  ecsScope: number;
}

/** Per-server settings the encoder needs. */
export interface EncoderSettings {
  /** RFC 5001 NSID payload, or null to leave NSID requests unanswered. */
  nsid: Buffer | null;
}

const EMPTY: readonly Buffer[] = [];

/**
 * Size of an output buffer that holds any response: one longer than a TCP message cannot be sent
 * (the header, question and OPT of a truncated one are far smaller).
 */
export const RESPONSE_BUFFER_BYTES = TCP_MESSAGE_LIMIT;

function checkRoom(out: Buffer, length: number): void {
  // The byte loops below would silently drop what does not fit; a response cut short must never go out.
  if (length > out.length) throw new RangeError(`a response of ${length} bytes does not fit the ${out.length}-byte output buffer`);
}

/** Where the `encode…` forms write before copying out the response. */
let oneOffScratch: Buffer | null = null;

function encodeWith(write: (out: Buffer) => number): Buffer {
  oneOffScratch ??= Buffer.allocUnsafeSlow(RESPONSE_BUFFER_BYTES);
  return Buffer.from(oneOffScratch.subarray(0, write(oneOffScratch)));
}

/** RFC 6891 §6.2.3–6.2.5: the smaller of the client's and our payload size, never below 512. */
export function responseSizeLimit(query: { edns: Edns | null; transport: 'udp' | 'tcp' }): number {
  if (query.transport === 'tcp') return TCP_MESSAGE_LIMIT;
  if (query.edns === null) return CLASSIC_UDP_LIMIT;
  return Math.min(query.edns.udpPayloadSize, SERVER_UDP_PAYLOAD);
}

/** RFC 7873 §4: the client cookie's length, the first bytes of a COOKIE option. */
const CLIENT_COOKIE_LENGTH = 8;

function optSize(edns: Edns | null, settings: EncoderSettings, serverCookie: Buffer | null): number {
  if (edns === null) return 0;
  let size = OPT_FIXED_SIZE;
  if (edns.nsidRequested && settings.nsid !== null) size += 4 + settings.nsid.length;
  if (edns.clientSubnet !== null) size += 8 + edns.clientSubnet.addressLength;
  if (serverCookie !== null && edns.cookieAt >= 0) size += 4 + CLIENT_COOKIE_LENGTH + serverCookie.length;
  return size;
}

/**
 * The OPT record for `edns`, at `offset`; `packet` is the request (the ECS address and the client
 * cookie are echoed from it). A COOKIE option when the request had one and the cookie check gave
 * a server cookie: the client cookie, then that server cookie.
 */
function writeOpt(out: Buffer, offset: number, packet: Buffer, edns: Edns, rcode: number, ecsScope: number, settings: EncoderSettings, serverCookie: Buffer | null): number {
  out[offset] = 0; // root owner
  out.writeUInt16BE(RRType.OPT, offset + 1);
  out.writeUInt16BE(SERVER_UDP_PAYLOAD, offset + 3);
  out[offset + 5] = (rcode >> 4) & 0xff; // extended rcode: the upper 8 of 12 bits
  out[offset + 6] = 0; // version 0
  out[offset + 7] = edns.dnssecOk ? DO_IN_FIRST_BYTE : 0; // RFC 3225 §3: DO is copied into the response
  out[offset + 8] = 0;
  const rdlengthAt = offset + 9;
  let cursor = offset + OPT_FIXED_SIZE;
  if (edns.nsidRequested && settings.nsid !== null) {
    out.writeUInt16BE(EdnsOption.NSID, cursor);
    out.writeUInt16BE(settings.nsid.length, cursor + 2);
    settings.nsid.copy(out, cursor + 4);
    cursor += 4 + settings.nsid.length;
  }
  const subnet = edns.clientSubnet;
  if (subnet !== null) {
    // RFC 7871 §7.2.1: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as sent, SCOPE set by us.
    out.writeUInt16BE(EdnsOption.CLIENT_SUBNET, cursor);
    out.writeUInt16BE(4 + subnet.addressLength, cursor + 2);
    out.writeUInt16BE(subnet.family === 4 ? ECS_IPV4 : ECS_IPV6, cursor + 4);
    out[cursor + 6] = subnet.sourcePrefix;
    // Source prefix 0 means "do not tailor": scope stays 0 (§7.1.2).
    out[cursor + 7] = subnet.sourcePrefix === 0 ? 0 : ecsScope;
    copyBytes(packet, subnet.addressAt, subnet.addressAt + subnet.addressLength, out, cursor + 8);
    cursor += 8 + subnet.addressLength;
  }
  if (serverCookie !== null && edns.cookieAt >= 0) {
    out.writeUInt16BE(EdnsOption.COOKIE, cursor);
    out.writeUInt16BE(CLIENT_COOKIE_LENGTH + serverCookie.length, cursor + 2);
    copyBytes(packet, edns.cookieAt, edns.cookieAt + CLIENT_COOKIE_LENGTH, out, cursor + 4);
    copyBytes(serverCookie, 0, serverCookie.length, out, cursor + 4 + CLIENT_COOKIE_LENGTH);
    cursor += 4 + CLIENT_COOKIE_LENGTH + serverCookie.length;
  }
  out.writeUInt16BE(cursor - offset - OPT_FIXED_SIZE, rdlengthAt);
  return cursor;
}

function totalLength(records: readonly Buffer[]): number {
  let length = 0;
  for (let i = 0; i < records.length; i++) length += records[i]!.length;
  return length;
}

/**
 * Copies bytes; a record or question is a few dozen bytes, for which a plain loop beats
 * Buffer#copy (argument checks, and a temporary view whenever a range is given).
 */
function copyBytes(source: Buffer, start: number, end: number, out: Buffer, at: number): number {
  if (end - start > 64) return source.copy(out, at, start, end);
  for (let i = start; i < end; i++) out[at++] = source[i]!;
  return end - start;
}

function copyAll(records: readonly Buffer[], out: Buffer, offset: number): number {
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    offset += copyBytes(record, 0, record.length, out, offset);
  }
  return offset;
}

function writeHeader(
  out: Buffer,
  id: number,
  requestFlags: number,
  flags: number,
  rcode: number,
  qdcount: number,
  ancount: number,
  nscount: number,
  arcount: number,
): void {
  out.writeUInt16BE(id, 0);
  // QR set; opcode, RD and CD copied from the request (RFC 1035 §4.1.1, RFC 6840 §5.9); RA never.
  out.writeUInt16BE(Flag.QR | (requestFlags & (OPCODE_BITS | Flag.RD | Flag.CD)) | flags | (rcode & 0xf), 2);
  out.writeUInt16BE(qdcount, 4);
  out.writeUInt16BE(ancount, 6);
  out.writeUInt16BE(nscount, 8);
  out.writeUInt16BE(arcount, 10);
}

/**
 * RFC 8945 §5.2.2: the answer to a TSIG whose key the server does not have (Meridian has none):
 * NOTAUTH, no records, the OPT if the request had one, and the TSIG record echoed with its owner,
 * algorithm, Time Signed and Fudge, the message ID as Original ID, error BADKEY, no MAC and no
 * Other Data. Byte for byte what Knot answers.
 */
function writeBadKey(query: Query, tsig: TsigRecord, settings: EncoderSettings, out: Buffer): number {
  const packet = query.packet;
  const ownerLength = tsig.ownerEnd - tsig.ownerStart;
  // Algorithm name, Time Signed (6) and Fudge (2), then MAC Size, Original ID, Error, Other Len.
  const signedLength = tsig.algorithmEnd + 8 - tsig.rdataStart;
  const rdataLength = signedLength + 8;
  const opt = optSize(query.edns, settings, query.serverCookie);
  const length = query.questionEnd + opt + ownerLength + 10 + rdataLength;
  checkRoom(out, length);
  writeHeader(out, query.id, query.requestFlags, 0, Rcode.NOTAUTH, 1, 0, 0, (query.edns === null ? 0 : 1) + 1);
  copyBytes(packet, HEADER_SIZE, query.questionEnd, out, HEADER_SIZE);
  let offset = query.questionEnd;
  if (query.edns !== null) offset = writeOpt(out, offset, packet, query.edns, Rcode.NOTAUTH, 0, settings, query.serverCookie);
  // The key name in lower case, as Knot writes it; a final pointer (into the question) is kept.
  for (let at = tsig.ownerStart; at < tsig.ownerEnd; ) {
    const labelLength = packet[at]!;
    out[offset++] = labelLength;
    if (labelLength >= 0xc0) {
      out[offset++] = packet[at + 1]!;
      break;
    }
    for (let end = at + 1 + labelLength, i = at + 1; i < end; i++) {
      const byte = packet[i]!;
      out[offset++] = byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte;
    }
    at += 1 + labelLength;
  }
  out.writeUInt16BE(RRType.TSIG, offset);
  out.writeUInt16BE(RRClass.ANY, offset + 2);
  out.writeUInt32BE(0, offset + 4);
  out.writeUInt16BE(rdataLength, offset + 8);
  offset += 10;
  offset += copyBytes(packet, tsig.rdataStart, tsig.rdataStart + signedLength, out, offset);
  out.writeUInt16BE(0, offset); // MAC Size
  out.writeUInt16BE(query.id, offset + 2); // Original ID: the message's, as Knot writes it
  out.writeUInt16BE(TsigError.BADKEY, offset + 4);
  out.writeUInt16BE(0, offset + 6); // Other Len
  return length;
}

/** Encodes the response to a decoded query, truncating to `sizeLimit` bytes when needed. */
export function encodeResponse(query: Query, sections: ResponseSections, sizeLimit: number, settings: EncoderSettings): Buffer {
  return encodeWith((out) => writeResponse(query, sections, sizeLimit, settings, out));
}

/** Writes the response to a decoded query into `out` from offset 0 and returns its length. */
export function writeResponse(query: Query, sections: ResponseSections, sizeLimit: number, settings: EncoderSettings, out: Buffer): number {
  // No key is configured, so every TSIG names an unknown key. A name outside our zones is
  // REFUSED first, as Knot orders the two checks.
  if (query.tsig !== null && sections.rcode !== Rcode.REFUSED) return writeBadKey(query, query.tsig, settings, out);
  const questionLength = query.questionEnd - HEADER_SIZE;
  const opt = optSize(query.edns, settings, query.serverCookie);
  const fixed = HEADER_SIZE + questionLength + opt;
  const required = totalLength(sections.answer) + totalLength(sections.authority) + totalLength(sections.additional);
  let extra = sections.extraAdditional;
  let extraLength = extra.length === 0 ? 0 : totalLength(extra);
  let truncated = false;
  let answer = sections.answer;
  let authority = sections.authority;
  let additional = sections.additional;
  if (fixed + required + extraLength > sizeLimit) {
    extra = EMPTY;
    extraLength = 0;
    if (fixed + required > sizeLimit) {
      // RFC 2181 §9: rather than a partial RRset, send the header, question and OPT with TC=1.
      truncated = true;
      answer = EMPTY;
      authority = EMPTY;
      additional = EMPTY;
    }
  }
  const length = fixed + (truncated ? 0 : required) + extraLength;
  checkRoom(out, length);
  let flags = sections.authoritative ? Flag.AA : 0;
  if (truncated) flags |= Flag.TC;
  const arcount = additional.length + extra.length + (query.edns === null ? 0 : 1);
  writeHeader(out, query.id, query.requestFlags, flags, sections.rcode, 1, answer.length, authority.length, arcount);
  copyBytes(query.packet, HEADER_SIZE, query.questionEnd, out, HEADER_SIZE);
  let offset = query.questionEnd;
  offset = copyAll(answer, out, offset);
  offset = copyAll(authority, out, offset);
  offset = copyAll(additional, out, offset);
  offset = copyAll(extra, out, offset);
  if (query.edns !== null) writeOpt(out, offset, query.packet, query.edns, sections.rcode, sections.ecsScope, settings, query.serverCookie);
  return length;
}

const BAD_COOKIE: ResponseSections = { rcode: Rcode.BADCOOKIE, authoritative: false, answer: EMPTY, authority: EMPTY, additional: EMPTY, extraAdditional: EMPTY, ecsScope: 0 };

/**
 * RFC 7873 §5.2.3: BADCOOKIE (extended rcode 23), no records, the question, and the OPT with the
 * client cookie and `query.serverCookie` (which the cookie check sets, fresh for any query whose
 * server cookie was missing or invalid), so the client can retry with it at once. As Knot answers.
 */
export function writeBadCookie(query: Query, settings: EncoderSettings, out: Buffer): number {
  return writeResponse(query, BAD_COOKIE, responseSizeLimit(query), settings, out);
}

/** The BADCOOKIE response as a buffer of its own (tests, tools). */
export function encodeBadCookie(query: Query, settings: EncoderSettings): Buffer {
  return encodeWith((out) => writeBadCookie(query, settings, out));
}

/** Encodes a header-only rejection (FORMERR, NOTIMP, BADVERS, ...), echoing what could be read. */
export function encodeRejection(rejection: Rejection, settings: EncoderSettings): Buffer {
  return encodeWith((out) => writeRejection(rejection, settings, out));
}

/** Writes a header-only rejection into `out` from offset 0 and returns its length. */
export function writeRejection(rejection: Rejection, settings: EncoderSettings, out: Buffer): number {
  return writeHeaderOnly(rejection.rcode, rejection.id, rejection.requestFlags, rejection.packet, rejection.questionEnd, rejection.edns, settings, out);
}

function writeHeaderOnly(rcode: number, id: number, requestFlags: number, packet: Buffer, questionEnd: number, edns: Edns | null, settings: EncoderSettings, out: Buffer): number {
  const questionLength = questionEnd === 0 ? 0 : questionEnd - HEADER_SIZE;
  const length = HEADER_SIZE + questionLength + optSize(edns, settings, null);
  checkRoom(out, length);
  writeHeader(out, id, requestFlags, 0, rcode, questionLength === 0 ? 0 : 1, 0, 0, edns === null ? 0 : 1);
  if (questionLength > 0) copyBytes(packet, HEADER_SIZE, questionEnd, out, HEADER_SIZE);
  if (edns !== null) writeOpt(out, HEADER_SIZE + questionLength, packet, edns, rcode, 0, settings, null);
  return length;
}

/** A SERVFAIL for a request whose handling threw: never let a bug silence the server. */
export function encodeServerFailure(query: Query, settings: EncoderSettings): Buffer {
  return encodeWith((out) => writeServerFailure(query, settings, out));
}

/** Writes the SERVFAIL for `query` into `out` from offset 0 and returns its length. */
export function writeServerFailure(query: Query, settings: EncoderSettings, out: Buffer): number {
  return writeHeaderOnly(Rcode.SERVFAIL, query.id, query.requestFlags, query.packet, query.questionEnd, query.edns, settings, out);
}
