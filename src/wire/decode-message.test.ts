/**
 * The message codec end to end: queries built by `encodeQuery` read back by `decodeMessage` and
 * by the server's `decodeQuery`; responses from the server's encoder read back; RDATA through the
 * cursor a presenter reads (the record types' own presentations are tested in src/records); and
 * the malformed messages the decoder refuses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipv6Text, addressBytes } from './address-text.js';
import { decodeMessage, formatRecord, MessageFormatError } from './decode-message.js';
import { decodeQuery } from './decode-query.js';
import type { Query } from './query.js';
import { EdnsOption, Opcode, Rcode, RRType } from './dns-constants.js';
import { clientSubnetOption, cookieOption, encodeOptRecord, encodeQuery, tcpFrame } from './encode-query.js';
import { encodeResponse, encodeRejection, type ResponseSections } from './encode-response.js';
import { encodeName, readName } from './names.js';
import { genericRData, type RDataCursor, type RDataPresenter } from './rdata-cursor.js';

function decodedQuery(packet: Buffer): Query {
  const result = decodeQuery(packet, 'udp');
  if (result.kind !== 'query') throw new Error(`not a query: ${JSON.stringify(result)}`);
  return result.query;
}

/** Every type in the generic form of RFC 3597. */
const GENERIC: RDataPresenter = () => undefined;
/** A presenter of two types, written here against the RFC layouts, to drive the cursor. */
const MX_AND_TXT: RDataPresenter = (type: number, rdata: RDataCursor) => {
  if (type === RRType.MX) return `${rdata.u16()} ${rdata.name()}`;
  if (type !== RRType.TXT) return undefined;
  const strings: string[] = [];
  do strings.push(rdata.bytes(rdata.u8()).toString('latin1'));
  while (rdata.remaining > 0);
  return strings.join(' ');
};

const NO_RECORDS: ResponseSections = { rcode: Rcode.NOERROR, authoritative: true, answer: [], authority: [], additional: [], extraAdditional: [], ecsScope: 0 };

test('a query round-trips: header, flags, opcode, question, OPT fields and options', () => {
  const cookie = cookieOption(Buffer.from('0123456789abcdef', 'hex'));
  const packet = encodeQuery({
    id: 0xbeef,
    name: 'WwW.Example.Test.',
    type: 'AAAA',
    flags: { rd: true, cd: true, ad: true },
    edns: { udpSize: 4096, do: true, zFlags: 0x0001, nsid: true, clientSubnet: '2001:db8:1234::/48', options: [cookie, { code: 65001, data: Buffer.from('xyz') }] },
  });
  const decoded = decodeMessage(packet, GENERIC);
  assert.deepStrictEqual(
    { ...decoded, raw: undefined },
    {
      id: 0xbeef,
      opcode: Opcode.QUERY,
      flags: { qr: false, aa: false, tc: false, rd: true, ra: false, z: false, ad: true, cd: true },
      rcode: 0,
      rcodeName: 'NOERROR',
      headerRcode: 0,
      counts: { qd: 1, an: 0, ns: 0, ar: 1 },
      question: [{ name: 'WwW.Example.Test.', type: 'AAAA', qclass: 1 }],
      answer: [],
      authority: [],
      additional: [],
      opt: {
        udpSize: 4096,
        extendedRcode: 0,
        version: 0,
        do: true,
        flags: 0x8001,
        options: [
          cookie,
          { code: 65001, data: Buffer.from('xyz') },
          { code: EdnsOption.NSID, data: Buffer.alloc(0) },
          { code: EdnsOption.CLIENT_SUBNET, data: Buffer.from([0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34]) },
        ],
        ecs: { family: 2, source: 48, scope: 0, address: '2001:db8:1234::' },
        nsid: '',
      },
      size: packet.length,
      raw: undefined,
    },
  );
  // The server's decoder reads the same query the same way.
  const query = decodedQuery(packet);
  assert.equal(query.lowerName, 'www.example.test');
  assert.equal(query.type, RRType.AAAA);
  assert.deepEqual(query.edns, {
    udpPayloadSize: 4096,
    version: 0,
    dnssecOk: true,
    nsidRequested: true,
    // The cookie option's data follows the question (34 bytes), the OPT's fixed part and its header.
    cookieAt: 34 + 11 + 4,
    cookieLength: 8,
    clientSubnet: { family: 6, sourcePrefix: 48, address: '2001:db8:1234:0:0:0:0:0', addressAt: 76, addressLength: 6 },
  });
  assert.deepEqual([...packet.subarray(76, 82)], [0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34]);
});

test('a query without EDNS has no OPT; raw flags words and opcodes survive', () => {
  const packet = encodeQuery({ id: 1, name: 'example.test', type: RRType.SOA, flags: 0x2910 });
  const decoded = decodeMessage(packet, GENERIC);
  assert.equal(decoded.opt, null);
  assert.equal(decoded.opcode, Opcode.UPDATE);
  assert.deepEqual(decoded.flags, { qr: false, aa: false, tc: false, rd: true, ra: false, z: false, ad: false, cd: true });
  assert.equal(decodeMessage(encodeQuery({ name: 'x', type: 'A', flags: { opcode: Opcode.NOTIFY, aa: true } }), GENERIC).opcode, Opcode.NOTIFY);
  assert.equal(decodeMessage(encodeQuery({ name: 'x', type: 'TYPE65280' }), GENERIC).question[0]!.type, 'TYPE65280');
  assert.throws(() => encodeQuery({ name: 'x', type: 'NOSUCHTYPE' }), RangeError);
});

test('clientSubnetOption cuts the address to the prefix and clears the bits beyond it', () => {
  const cases: [string, number[]][] = [
    ['192.0.2.77/24', [0, 1, 24, 0, 192, 0, 2]],
    ['192.0.3.255/23', [0, 1, 23, 0, 192, 0, 2]],
    ['192.0.2.1', [0, 1, 32, 0, 192, 0, 2, 1]],
    ['0.0.0.0/0', [0, 1, 0, 0]],
    ['2001:db8:ffff::/33', [0, 2, 33, 0, 0x20, 0x01, 0x0d, 0xb8, 0x80]],
    ['::ffff:192.0.2.1/128', [0, 2, 128, 0, ...Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 1]],
  ];
  for (const [subnet, bytes] of cases) assert.deepEqual([...clientSubnetOption(subnet).data], bytes, subnet);
  for (const bad of ['192.0.2.0/33', '2001:db8::/129', 'nonsense/8', '192.0.2.0/24/1', '192.0.2.0/x']) assert.throws(() => clientSubnetOption(bad), RangeError, bad);
});

test('cookieOption checks the cookie sizes of RFC 7873', () => {
  assert.deepEqual(cookieOption(Buffer.alloc(8, 1), Buffer.alloc(16, 2)), { code: EdnsOption.COOKIE, data: Buffer.concat([Buffer.alloc(8, 1), Buffer.alloc(16, 2)]) });
  assert.throws(() => cookieOption(Buffer.alloc(7)), RangeError);
  assert.throws(() => cookieOption(Buffer.alloc(8), Buffer.alloc(7)), RangeError);
  assert.throws(() => cookieOption(Buffer.alloc(8), Buffer.alloc(33)), RangeError);
});

test('tcpFrame puts the 2-byte length first', () => {
  assert.deepEqual([...tcpFrame(Buffer.from([9, 8, 7]))], [0, 3, 9, 8, 7]);
});

/** A response with one answer record of `type` and the given RDATA, built by hand. */
function answerWith(type: number, rdata: number[], rclass = 1): Buffer {
  const question = encodeQuery({ id: 9, name: 'x.test', type }).subarray(12);
  const header = Buffer.from([0, 9, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0);
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(rclass, 4);
  fixed.writeUInt32BE(3600, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([header, question, fixed, Buffer.from(rdata)]);
}

test('types a presenter does not know get the generic form of RFC 3597; other classes their name', () => {
  assert.deepEqual(decodeMessage(answerWith(65280, [1, 2, 0xab, 0xcd]), MX_AND_TXT).answer.map(formatRecord), ['x.test. 3600 IN TYPE65280 \\# 4 0102ABCD']);
  assert.deepEqual(decodeMessage(answerWith(RRType.HINFO, []), MX_AND_TXT).answer.map(formatRecord), ['x.test. 3600 IN HINFO \\# 0']);
  assert.deepEqual(decodeMessage(answerWith(RRType.TXT, [1, 0x61], 3), MX_AND_TXT).answer.map(formatRecord), ['x.test. 3600 CH TXT a']);
  assert.deepEqual(decodeMessage(answerWith(RRType.TXT, [1, 0x61], 7), GENERIC).answer.map(formatRecord), ['x.test. 3600 CLASS7 TXT \\# 2 0161']);
  assert.equal(genericRData(Buffer.alloc(0)), '\\# 0');
});

test('compressed names inside RDATA are followed; odd label bytes are escaped as dig does', () => {
  // MX 10 mail.<pointer to x.test at 12>
  assert.deepEqual(decodeMessage(answerWith(RRType.MX, [0, 10, 4, 0x6d, 0x61, 0x69, 0x6c, 0xc0, 12]), MX_AND_TXT).answer[0]!.data, '10 mail.x.test.');
  // A label holding a dot, a backslash, a space and a byte 0xff.
  assert.equal(decodeMessage(answerWith(RRType.MX, [0, 1, 4, 0x2e, 0x5c, 0x20, 0xff, 0]), MX_AND_TXT).answer[0]!.data, '1 \\.\\\\\\032\\255.');
  assert.equal(decodeMessage(answerWith(RRType.MX, [0, 0, 0]), MX_AND_TXT).answer[0]!.data, '0 .');
});

test('the OPT of a response: NSID, the ECS echo with its scope, and BADVERS from the extended rcode', () => {
  const query = decodedQuery(encodeQuery({ id: 3, name: 'www.example.test', type: 'A', edns: { nsid: true, clientSubnet: '81.2.69.0/24', do: true } }));
  const response = decodeMessage(encodeResponse(query, { ...NO_RECORDS, ecsScope: 18 }, 1232, { nsid: Buffer.from('meridian-1') }), GENERIC);
  assert.equal(response.opt?.nsid, 'meridian-1');
  assert.deepEqual(response.opt?.ecs, { family: 1, source: 24, scope: 18, address: '81.2.69.0' });
  assert.equal(response.opt?.udpSize, 1232);
  assert.equal(response.opt?.do, true);
  assert.deepEqual(response.flags, { qr: true, aa: true, tc: false, rd: false, ra: false, z: false, ad: false, cd: false });

  const badvers = decodeQuery(encodeQuery({ id: 4, name: 'www.example.test', type: 'A', edns: { version: 1 } }), 'udp');
  assert.equal(badvers.kind, 'reject');
  if (badvers.kind !== 'reject') return;
  const rejection = decodeMessage(encodeRejection(badvers.rejection, { nsid: null }), GENERIC);
  assert.equal(rejection.rcode, Rcode.BADVERS);
  assert.equal(rejection.rcodeName, 'BADVERS');
  assert.equal(rejection.headerRcode, 0);
  assert.equal(rejection.opt?.extendedRcode, 1);
  assert.equal(rejection.opt?.version, 0);
});

// Malformed messages: each is refused with MessageFormatError, never read half way.
const q = encodeQuery({ id: 1, name: 'x.test', type: 'A' });
const withCounts = (body: Buffer, counts: [number, number, number, number]): Buffer => {
  const out = Buffer.concat([q.subarray(0, 12), body]);
  counts.forEach((count, i) => out.writeUInt16BE(count, 4 + 2 * i));
  return out;
};
const MALFORMED: [string, Buffer][] = [
  ['shorter than a header', Buffer.alloc(11)],
  ['a question past the end', q.subarray(0, q.length - 1)],
  ['bytes after the last record', Buffer.concat([q, Buffer.from([0])])],
  ['a pointer to itself', withCounts(Buffer.from([0xc0, 12, 0, 1, 0, 1]), [1, 0, 0, 0])],
  ['a forward pointer', withCounts(Buffer.from([0xc0, 20, 0, 1, 0, 1, 0, 0]), [1, 0, 0, 0])],
  ['a pointer loop through two names', withCounts(Buffer.from([1, 0x61, 0xc0, 20, 0, 1, 0, 1, 1, 0x62, 0xc0, 12, 0, 1, 0, 1]), [2, 0, 0, 0])],
  ['a label type 0x40', withCounts(Buffer.from([0x40, 0, 0, 1, 0, 1]), [1, 0, 0, 0])],
  ['a name over 255 bytes', withCounts(Buffer.concat([...Array.from({ length: 5 }, () => Buffer.from([63, ...Array<number>(63).fill(0x61)])), Buffer.from([0, 0, 1, 0, 1])]), [1, 0, 0, 0])],
  ['an MX whose name runs past its RDATA', answerWith(RRType.MX, [0, 10, 4, 0x6d, 0x61])],
  ['an MX with a byte after its name', answerWith(RRType.MX, [0, 10, 0, 0])],
  ['an MX cut inside its preference', answerWith(RRType.MX, [0])],
  ['a TXT string longer than its RDATA', answerWith(RRType.TXT, [5, 0x61])],
  ['RDATA past the end of the message', answerWith(RRType.A, [1, 2, 3, 4]).subarray(0, 38)],
  ['two OPT records', withCounts(Buffer.concat([q.subarray(12), encodeOptRecord({}), encodeOptRecord({})]), [1, 0, 0, 2])],
  ['an OPT in the answer section', withCounts(Buffer.concat([q.subarray(12), encodeOptRecord({})]), [1, 1, 0, 0])],
  ['an OPT not owned by the root', withCounts(Buffer.concat([q.subarray(12), encodeName('x'), encodeOptRecord({}).subarray(1)]), [1, 0, 0, 1])],
  ['an OPT option past its RDATA', withCounts(Buffer.concat([q.subarray(12), Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 5, 0, 8, 0, 9, 1])]), [1, 0, 0, 1])],
  ['an ECS option of an unknown family', withCounts(Buffer.concat([q.subarray(12), encodeOptRecord({ options: [{ code: 8, data: Buffer.from([0, 3, 24, 0, 1, 2, 3]) }] })]), [1, 0, 0, 1])],
];
for (const [label, message] of MALFORMED) {
  test(`decodeMessage refuses ${label}`, () => {
    assert.throws(() => decodeMessage(message, MX_AND_TXT), MessageFormatError);
  });
}

test('readName follows backward pointers and reports each kind of bad name', () => {
  const message = Buffer.from([1, 0x61, 0, 1, 0x62, 0xc0, 0, 0xc0, 2]);
  assert.deepEqual(readName(message, 0), { name: 'a.', end: 3 });
  assert.deepEqual(readName(message, 3), { name: 'b.a.', end: 7 });
  assert.deepEqual(readName(message, 7), { name: '.', end: 9 });
  assert.equal(readName(Buffer.from([0xc0, 0]), 0), 'bad-pointer');
  assert.equal(readName(Buffer.from([0xc0]), 0), 'past-end');
  assert.equal(readName(Buffer.from([0x80]), 0), 'bad-label-type');
  assert.equal(readName(Buffer.from([3, 0x61]), 0), 'past-end');
});

test('IPv6 text is RFC 5952, and addressBytes reads what it writes', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8::', '2001:db8::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
  ];
  for (const [input, text] of cases) {
    assert.equal(ipv6Text(addressBytes(input)), text, input);
    assert.deepEqual(addressBytes(text), addressBytes(input), text);
  }
  assert.deepEqual([...addressBytes('192.0.2.1')], [192, 0, 2, 1]);
  assert.throws(() => addressBytes('192.0.2'), RangeError);
});
