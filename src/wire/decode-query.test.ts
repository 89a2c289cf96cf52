/**
 * The server's request decoder, case by case: every kind of packet it drops, every malformed
 * request and the rcode it gets (with what of the question and OPT is echoed), and what a good
 * request decodes to. Each case asserts the whole DecodeResult.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeQuery } from './decode-query.js';
import type { DecodeResult, Edns, TsigRecord } from './query.js';
import { EdnsOption, Opcode, Rcode, RRType } from './dns-constants.js';
import { clientSubnetOption, encodeOptRecord, encodeQuery, flagsWord, type EdnsOptionData, type QueryEdns } from './encode-query.js';

const ID = 0x1234;
/** static.example.test A IN: 12-byte header, 21-byte name, type and class. */
const QUESTION_END = 12 + 21 + 4;
const question = (): Buffer => encodeQuery({ id: ID, name: 'static.example.test', type: 'A' });

/** A query whose header counts are set to the sections given. */
function message(sections: { head?: Buffer; answer?: Buffer[]; authority?: Buffer[]; additional?: Buffer[]; flags?: number; qdcount?: number }): Buffer {
  const head = Buffer.from(sections.head ?? question());
  const { answer = [], authority = [], additional = [] } = sections;
  if (sections.flags !== undefined) head.writeUInt16BE(sections.flags, 2);
  if (sections.qdcount !== undefined) head.writeUInt16BE(sections.qdcount, 4);
  head.writeUInt16BE(answer.length, 6);
  head.writeUInt16BE(authority.length, 8);
  head.writeUInt16BE(additional.length, 10);
  return Buffer.concat([head, ...answer, ...authority, ...additional]);
}

const opt = (edns: QueryEdns = {}): Buffer => encodeOptRecord(edns);
/** A COOKIE option of `length` bytes of 0x5a (its length is all the decoder judges). */
const cookie = (length: number): EdnsOptionData => ({ code: EdnsOption.COOKIE, data: Buffer.alloc(length, 0x5a) });
const ecs = (family: number, source: number, scope: number, address: number[]): EdnsOptionData => {
  const data = Buffer.alloc(4 + address.length);
  data.writeUInt16BE(family, 0);
  data[2] = source;
  data[3] = scope;
  Buffer.from(address).copy(data, 4);
  return { code: EdnsOption.CLIENT_SUBNET, data };
};
/** A TSIG record (RFC 8945 §4.2) owned by k.example: hmac-sha256, a MAC of `macSize` bytes. */
const tsig = (over: { rrClass?: number; macSize?: number; otherLength?: number } = {}): Buffer => {
  const { rrClass = 255, macSize = 32, otherLength = 0 } = over;
  const rdata = Buffer.concat([Buffer.from('\x0bhmac-sha256\x00', 'latin1'), Buffer.from([0, 0, 0x65, 0x53, 0xf1, 0, 1, 0x2c, 0, macSize]), Buffer.alloc(32, 0xa5), Buffer.from([0x12, 0x34, 0, 0, 0, otherLength])]);
  const head = Buffer.from([0, 250, rrClass >> 8, rrClass & 0xff, 0, 0, 0, 0, rdata.length >> 8, rdata.length & 0xff]);
  return Buffer.concat([Buffer.from('\x01k\x07example\x00', 'latin1'), head, rdata]);
};
/** Where tsig() sits after the question: owner 11 bytes, then the fixed part, then 13 bytes of algorithm. */
const TSIG_AT = { ownerStart: QUESTION_END, ownerEnd: QUESTION_END + 11, rdataStart: QUESTION_END + 21, algorithmEnd: QUESTION_END + 34 };
/** An A record owned by the question name (pointer C0 0C). */
const aRecord = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
/** An A record whose owner pointer is given. */
const aRecordAt = (pointer: number): Buffer => Buffer.concat([Buffer.from([0xc0 | (pointer >> 8), pointer & 0xff]), aRecord.subarray(2)]);

const plainEdns = (over: Partial<Edns> = {}): Edns => ({ udpPayloadSize: 1232, version: 0, dnssecOk: false, clientSubnet: null, nsidRequested: false, cookieAt: -1, cookieLength: 0, ...over });

function rejected(packet: Buffer, rcode: number, questionEnd: number, edns: Edns | null = null): DecodeResult {
  return { kind: 'reject', rejection: { rcode, id: packet.readUInt16BE(0), requestFlags: packet.readUInt16BE(2), packet, questionEnd, edns } };
}

function accepted(packet: Buffer, fields: { lowerName: string; type: number; questionEnd: number; edns: Edns | null; qclass?: number; tsig?: TsigRecord }): DecodeResult {
  return {
    kind: 'query',
    query: {
      id: packet.readUInt16BE(0),
      requestFlags: packet.readUInt16BE(2),
      lowerName: fields.lowerName,
      type: fields.type,
      qclass: fields.qclass ?? 1,
      packet,
      questionEnd: fields.questionEnd,
      edns: fields.edns,
      tsig: fields.tsig ?? null,
      transport: 'udp',
      serverCookie: null,
    },
  };
}

const header = (qdcount: number, flags = 0): Buffer => Buffer.from([0x12, 0x34, flags >> 8, flags & 0xff, 0, qdcount, 0, 0, 0, 0, 0, 0]);
/** A header for one question, then the given question bytes. */
const rawQuestion = (...bytes: number[]): Buffer => Buffer.concat([header(1), Buffer.from(bytes)]);
const label63 = [63, ...Array<number>(63).fill(0x61)];

type Case = [label: string, packet: Buffer, expected: (packet: Buffer) => DecodeResult];

const cases: Case[] = [
  // ---- dropped: never answered ----
  ['an empty packet is dropped', Buffer.alloc(0), () => ({ kind: 'drop', reason: 'short' })],
  ['11 bytes are dropped', question().subarray(0, 11), () => ({ kind: 'drop', reason: 'short' })],
  ['a response (QR=1) is dropped', message({ flags: flagsWord({ qr: true }) }), () => ({ kind: 'drop', reason: 'response' })],
  ['a response with garbage after its header is dropped', Buffer.concat([header(1, 0x8000), Buffer.from([0xff, 0xff])]), () => ({ kind: 'drop', reason: 'response' })],

  // ---- the header and the question: FORMERR without an echoed question ----
  ['a header alone (QDCOUNT 1)', question().subarray(0, 12), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['QDCOUNT 0', message({ qdcount: 0 }), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['QDCOUNT 2', message({ qdcount: 2 }), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['QDCOUNT 0 with opcode NOTIFY gets NOTIMP', message({ qdcount: 0, flags: flagsWord({ opcode: Opcode.NOTIFY }) }), (p) => rejected(p, Rcode.NOTIMP, 0)],
  ['a name that runs past the end', question().subarray(0, 20), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a question without its type and class', question().subarray(0, 33), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a question without its class', question().subarray(0, 35), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a label length past the end of the packet', rawQuestion(10, 0x61, 0x62), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a label of type 0x40 (extended)', rawQuestion(0x40, 0x61, 0, 0, 1, 0, 1), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a label of type 0x80 (reserved)', rawQuestion(0x80, 0x61, 0, 0, 1, 0, 1), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a compression pointer to itself in the question', rawQuestion(0xc0, 0x0c, 0, 1, 0, 1), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a label, then a pointer back to the question start (a loop)', rawQuestion(1, 0x61, 0xc0, 0x0c, 0, 1, 0, 1), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a forward pointer in the question', rawQuestion(0xc0, 0xff, 0, 1, 0, 1), (p) => rejected(p, Rcode.FORMERR, 0)],
  ['a name of 256 bytes', rawQuestion(...label63, ...label63, ...label63, ...label63, 0, 0, 1, 0, 1), (p) => rejected(p, Rcode.FORMERR, 0)],

  // ---- answer and authority sections: FORMERR with the question echoed ----
  ['ANCOUNT 1 with no record behind it', message({ answer: [Buffer.alloc(0)] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an answer record whose RDATA runs past the end', message({ answer: [aRecord.subarray(0, 14)] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an answer record cut inside its fixed part', message({ answer: [aRecord.subarray(0, 8)] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an authority record with a bad label type', message({ authority: [Buffer.concat([Buffer.from([0x80]), aRecord])] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an OPT record in the answer section', message({ answer: [opt()] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an OPT record in the authority section', message({ authority: [opt()], additional: [opt()] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],

  // ---- the additional section and OPT ----
  ['an additional record owned by a forward pointer', message({ additional: [aRecordAt(0x100)] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an additional record owned by a pointer to itself', message({ additional: [aRecordAt(QUESTION_END)] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['bytes after the last record', Buffer.concat([message({}), Buffer.from([0])]), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['bytes after the OPT record', Buffer.concat([message({ additional: [opt()] }), Buffer.from([0, 0])]), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['two OPT records (the first is echoed)', message({ additional: [opt({ udpSize: 4096 }), opt()] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns({ udpPayloadSize: 4096 }))],
  ['an OPT owned by a name other than the root', message({ additional: [Buffer.concat([Buffer.from([3, 0x63, 0x6f, 0x6d]), opt()])] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an OPT owned by a pointer to the root', message({ additional: [Buffer.concat([Buffer.from([0xc0, 0x20]), opt().subarray(1)])] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an OPT whose RDLENGTH runs past the end', message({ additional: [Buffer.concat([opt().subarray(0, 9), Buffer.from([0, 40])])] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an option whose length runs past RDATA', message({ additional: [Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 6, 0xfd, 0xe9, 0, 9, 1, 2])] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['an option header cut short', message({ additional: [Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 3, 0, 10, 0])] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],

  // ---- Client Subnet (RFC 7871 §6): the OPT itself is sound, so it is echoed (RFC 6891 §7) ----
  ['ECS with an unknown family', message({ additional: [opt({ options: [ecs(3, 24, 0, [192, 0, 2])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with a non-zero scope', message({ additional: [opt({ options: [ecs(1, 24, 16, [192, 0, 2])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with an IPv4 prefix over 32', message({ additional: [opt({ options: [ecs(1, 33, 0, [192, 0, 2, 1, 0])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with an IPv6 prefix over 128', message({ additional: [opt({ options: [ecs(2, 129, 0, Array<number>(17).fill(0))] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with more address bytes than the prefix needs', message({ additional: [opt({ options: [ecs(1, 24, 0, [192, 0, 2, 0])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with fewer address bytes than the prefix needs', message({ additional: [opt({ options: [ecs(1, 24, 0, [192, 0])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with an address byte and prefix 0', message({ additional: [opt({ options: [ecs(1, 0, 0, [7])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS with bits set beyond the prefix', message({ additional: [opt({ options: [ecs(1, 23, 0, [192, 0, 3])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['ECS shorter than its fixed part', message({ additional: [opt({ options: [{ code: EdnsOption.CLIENT_SUBNET, data: Buffer.from([0, 1, 24]) }] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['two ECS options', message({ additional: [opt({ clientSubnet: '192.0.2.0/24', options: [clientSubnetOption('192.0.2.0/24')] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],

  ['a bad ECS option with DO and NSID keeps both in the echo', message({ additional: [opt({ do: true, nsid: true, options: [ecs(1, 24, 16, [192, 0, 2])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns({ dnssecOk: true, nsidRequested: true }))],
  ['a bad ECS option outranks a bad opcode, OPT echoed', message({ flags: flagsWord({ opcode: Opcode.NOTIFY }), additional: [opt({ options: [ecs(3, 24, 0, [192, 0, 2])] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],

  // ---- TSIG (RFC 8945): read for the BADKEY answer ----
  ['a TSIG record', message({ additional: [tsig()] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: null, tsig: TSIG_AT })],
  ['a TSIG that is not the last record', message({ additional: [tsig(), opt()] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['a TSIG of class IN', message({ additional: [tsig({ rrClass: 1 })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['a TSIG whose MAC size runs past its RDATA', message({ additional: [tsig({ macSize: 40 })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['a TSIG whose Other Len runs past its RDATA', message({ additional: [tsig({ otherLength: 2 })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],

  // ---- well formed, but not answered ----
  ['opcode NOTIFY gets NOTIMP', message({ flags: flagsWord({ opcode: Opcode.NOTIFY }) }), (p) => rejected(p, Rcode.NOTIMP, QUESTION_END)],
  ['opcode UPDATE with EDNS gets NOTIMP with the OPT', message({ flags: flagsWord({ opcode: Opcode.UPDATE }), additional: [opt({ do: true })] }), (p) => rejected(p, Rcode.NOTIMP, QUESTION_END, plainEdns({ dnssecOk: true }))],
  ['a malformed OPT outranks a bad opcode', message({ flags: flagsWord({ opcode: Opcode.NOTIFY }), additional: [opt(), opt()] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['EDNS version 1 gets BADVERS', message({ additional: [opt({ version: 1 })] }), (p) => rejected(p, Rcode.BADVERS, QUESTION_END, plainEdns({ version: 1 }))],
  ['EDNS version 1 with ECS: the option is not read', message({ additional: [opt({ version: 1, clientSubnet: '192.0.2.0/24' })] }), (p) => rejected(p, Rcode.BADVERS, QUESTION_END, plainEdns({ version: 1 }))],
  ['a bad opcode outranks a bad EDNS version', message({ flags: flagsWord({ opcode: Opcode.STATUS }), additional: [opt({ version: 2 })] }), (p) => rejected(p, Rcode.NOTIMP, QUESTION_END, plainEdns({ version: 2 }))],
  ['qtype OPT', message({ head: encodeQuery({ id: ID, name: 'static.example.test', type: RRType.OPT }) }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END)],
  ['qtype OPT with EDNS echoes the OPT', message({ head: encodeQuery({ id: ID, name: 'static.example.test', type: RRType.OPT }), additional: [opt()] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],

  // ---- queries ----
  ['a plain query', message({}), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: null })],
  [
    'mixed case (DNS 0x20) is lower-cased; RD and CD stay in the flags',
    message({ head: encodeQuery({ id: 7, name: 'StAtIc.ExAmPlE.TeSt', type: 'AAAA', flags: { rd: true, cd: true } }) }),
    (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.AAAA, questionEnd: QUESTION_END, edns: null }),
  ],
  ['a dot inside a label does not read as a boundary', rawQuestion(3, 0x61, 0x2e, 0x62, 0, 0, 1, 0, 1), (p) => accepted(p, { lowerName: 'a\u0000b', type: RRType.A, questionEnd: 21, edns: null })],
  ['the root name', message({ head: encodeQuery({ id: ID, name: '.', type: 'NS' }) }), (p) => accepted(p, { lowerName: '', type: RRType.NS, questionEnd: 17, edns: null })],
  ['class CH', message({ head: encodeQuery({ id: ID, name: 'static.example.test', type: 'TXT', qclass: 3 }) }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.TXT, qclass: 3, questionEnd: QUESTION_END, edns: null })],
  ['a well-formed answer record is skipped', message({ answer: [aRecord] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: null })],
  ['a backward pointer in an additional record is skipped', message({ additional: [aRecordAt(12)] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: null })],
  ['EDNS with DO and NSID', message({ additional: [opt({ do: true, nsid: true, udpSize: 4096 })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ udpPayloadSize: 4096, dnssecOk: true, nsidRequested: true }) })],
  ['an EDNS payload size under 512 counts as 512', message({ additional: [opt({ udpSize: 100 })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ udpPayloadSize: 512 }) })],
  [
    'unknown options, Z bits and an extended rcode are ignored',
    message({ additional: [opt({ zFlags: 0x4001, extendedRcode: 7, options: [{ code: 65001, data: Buffer.from('xyz') }] })] }),
    (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns() }),
  ],

  // ---- COOKIE (RFC 7873 §5.2.2): read as offsets; a bad length is FORMERR with the OPT echoed, as Knot answers ----
  // The OPT's fixed 11 bytes and the option's 4-byte header come before the cookie's data.
  ['a client cookie', message({ additional: [opt({ options: [cookie(8)] })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ cookieAt: QUESTION_END + 15, cookieLength: 8 }) })],
  ['a client and a 16-byte server cookie', message({ additional: [opt({ options: [cookie(24)] })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ cookieAt: QUESTION_END + 15, cookieLength: 24 }) })],
  ['the shortest server cookie (8 bytes)', message({ additional: [opt({ options: [cookie(16)] })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ cookieAt: QUESTION_END + 15, cookieLength: 16 }) })],
  ['the longest server cookie (32 bytes)', message({ additional: [opt({ options: [cookie(40)] })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ cookieAt: QUESTION_END + 15, cookieLength: 40 }) })],
  ['of two COOKIE options the last counts', message({ additional: [opt({ options: [cookie(8), cookie(8)] })] }), (p) => accepted(p, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: plainEdns({ cookieAt: QUESTION_END + 27, cookieLength: 8 }) })],
  ['an empty COOKIE option', message({ additional: [opt({ options: [cookie(0)] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['a 7-byte client cookie', message({ additional: [opt({ options: [cookie(7)] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['a client cookie with a 1-byte server cookie', message({ additional: [opt({ options: [cookie(9)] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['a 7-byte server cookie', message({ additional: [opt({ options: [cookie(15)] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['a 33-byte server cookie', message({ additional: [opt({ options: [cookie(41)] })] }), (p) => rejected(p, Rcode.FORMERR, QUESTION_END, plainEdns())],
  ['EDNS version 1 with a bad cookie: the option is not read', message({ additional: [opt({ version: 1, options: [cookie(3)] })] }), (p) => rejected(p, Rcode.BADVERS, QUESTION_END, plainEdns({ version: 1 }))],
];

for (const [label, packet, expected] of cases) {
  test(`decodeQuery: ${label}`, () => {
    assert.deepStrictEqual(decodeQuery(packet, 'udp'), expected(packet));
  });
}

/** Where the ADDRESS of the one ECS option lies: after the OPT's fixed part, the option's code and length, FAMILY and the two prefixes. */
const ECS_ADDRESS_AT = QUESTION_END + 11 + 4 + 4;
/** The option bytes of an ECS request, as the decoder keeps them for the echo. */
const ecsCases: [subnet: string, family: 4 | 6, address: string, addressBytes: number[]][] = [
  ['192.0.2.0/24', 4, '192.0.2.0', [192, 0, 2]],
  ['198.51.100.128/25', 4, '198.51.100.128', [198, 51, 100, 128]],
  ['10.0.0.0/0', 4, '0.0.0.0', []],
  ['203.0.113.7/32', 4, '203.0.113.7', [203, 0, 113, 7]],
  ['2001:db8:1200::/56', 6, '2001:db8:1200:0:0:0:0:0', [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x00, 0x00]],
  ['2001:db8::1/128', 6, '2001:db8:0:0:0:0:0:1', [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 1]],
];
for (const [subnet, family, address, addressBytes] of ecsCases) {
  test(`decodeQuery: Client Subnet ${subnet}`, () => {
    const packet = message({ additional: [opt({ clientSubnet: subnet })] });
    const sourcePrefix = Number(subnet.split('/')[1]);
    assert.deepStrictEqual(
      decodeQuery(packet, 'tcp'),
      {
        kind: 'query',
        query: {
          ...(accepted(packet, { lowerName: 'static.example.test', type: RRType.A, questionEnd: QUESTION_END, edns: null }) as { query: object }).query,
          transport: 'tcp',
          edns: plainEdns({ clientSubnet: { family, sourcePrefix, address, addressAt: ECS_ADDRESS_AT, addressLength: addressBytes.length } }),
        },
      },
    );
    assert.deepStrictEqual([...packet.subarray(ECS_ADDRESS_AT, ECS_ADDRESS_AT + addressBytes.length)], addressBytes);
  });
}

test('decodeQuery never throws: every prefix of a full query, and every single-byte change to it', () => {
  const full = message({ additional: [opt({ do: true, nsid: true, clientSubnet: '192.0.2.0/24', options: [{ code: 65001, data: Buffer.from('xyz') }] })] });
  for (let cut = 0; cut <= full.length; cut++) decodeQuery(full.subarray(0, cut), 'udp');
  for (let at = 0; at < full.length; at++) {
    for (const value of [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xff]) {
      const changed = Buffer.from(full);
      changed[at] = value;
      const result = decodeQuery(changed, 'udp');
      assert.ok(['query', 'reject', 'drop'].includes(result.kind));
    }
  }
});
