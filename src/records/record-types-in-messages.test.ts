/**
 * Every record type through the wire codec: RDATA encoded as a zone is compiled, copied into a
 * response by the server's encoder (owner C0 0C, and written out), and read back by
 * `decodeMessage` with the record types' presentation into dig's text. RDATA that does not fit
 * its type's layout is refused, never shown half read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeMessage,
  decodeQuery,
  encodeName,
  encodeQuery,
  encodeResponse,
  formatRecord,
  MessageFormatError,
  OWNER_IS_QNAME,
  Rcode,
  RRType,
} from '../wire/index.js';
import { encodeRecordTail, presentRData, recordTypeNamed, type RData } from './index.js';

const RECORDS: [RData, string][] = [
  [{ type: 'A', address: '192.0.2.10' }, 'A 192.0.2.10'],
  [{ type: 'AAAA', address: '2001:db8::10' }, 'AAAA 2001:db8::10'],
  [{ type: 'AAAA', address: '2001:db8:0:1::1' }, 'AAAA 2001:db8:0:1::1'],
  [{ type: 'NS', target: 'ns1.example.test' }, 'NS ns1.example.test.'],
  [{ type: 'CNAME', target: 'static.example.test' }, 'CNAME static.example.test.'],
  [{ type: 'MX', preference: 10, exchange: 'mail.example.test' }, 'MX 10 mail.example.test.'],
  [{ type: 'TXT', strings: ['v=spf1 -all'] }, 'TXT "v=spf1 -all"'],
  [{ type: 'TXT', strings: ['say "hi" \\ back', 'two'] }, 'TXT "say \\"hi\\" \\\\ back" "two"'],
  [{ type: 'TXT', strings: ['café', ''] }, 'TXT "caf\\195\\169" ""'],
  [{ type: 'TXT', strings: ['x'.repeat(300)] }, `TXT "${'x'.repeat(255)}" "${'x'.repeat(45)}"`],
  [{ type: 'SRV', priority: 10, weight: 5, port: 5060, target: 'sip.example.test' }, 'SRV 10 5 5060 sip.example.test.'],
  [{ type: 'CAA', flags: 128, tag: 'issue', value: 'letsencrypt.org' }, 'CAA 128 issue "letsencrypt.org"'],
  [
    { type: 'SOA', mname: 'ns1.example.test', rname: 'hostmaster.example.test', serial: 2026112201, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 },
    'SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 900 1209600 60',
  ],
  [{ type: 'PTR', target: 'host.example.net' }, 'PTR host.example.net.'],
  [{ type: 'DS', keyTag: 12345, algorithm: 13, digestType: 2, digest: 'ab'.repeat(32) }, `DS 12345 13 2 ${'AB'.repeat(32)}`],
  [{ type: 'TLSA', usage: 3, selector: 1, matchingType: 1, data: 'cd'.repeat(32) }, `TLSA 3 1 1 ${'CD'.repeat(32)}`],
  [{ type: 'SSHFP', algorithm: 1, fingerprintType: 1, fingerprint: 'ef'.repeat(20) }, `SSHFP 1 1 ${'EF'.repeat(20)}`],
  [
    { type: 'NAPTR', order: 100, preference: 10, flags: 'U', service: 'E2U+sip', regexp: '!^.*$!sip:info@example.net!', replacement: '' },
    'NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .',
  ],
  [{ type: 'SVCB', priority: 0, target: 'svc.example.net', params: [] }, 'SVCB 0 svc.example.net.'],
  [
    { type: 'HTTPS', priority: 1, target: '', params: [{ key: 0, value: '0003' }, { key: 1, value: '0268320468332c78' }, { key: 3, value: '20fb' }] },
    'HTTPS 1 . mandatory=port alpn="h2,h3\\\\,x" port=8443',
  ],
  [{ type: 'TYPE65400', rdata: '0a000001' }, 'TYPE65400 \\# 4 0A000001'],
];

for (const [rdata, text] of RECORDS) {
  test(`${rdata.type} through a response and back: ${text.slice(0, 60)}`, () => {
    const decoded = decodeQuery(encodeQuery({ id: 5, name: 'Name.Example.Test', type: rdata.type, edns: {} }), 'udp');
    assert.equal(decoded.kind, 'query');
    if (decoded.kind !== 'query') return;
    const tail = encodeRecordTail(rdata, 300);
    const sections = {
      rcode: Rcode.NOERROR,
      authoritative: true,
      answer: [Buffer.concat([OWNER_IS_QNAME, tail])],
      authority: [Buffer.concat([encodeName('example.test'), tail])],
      additional: [],
      extraAdditional: [],
      ecsScope: 0,
    };
    const response = decodeMessage(encodeResponse(decoded.query, sections, 65535, { nsid: null }), presentRData);
    assert.deepEqual(response.answer.map(formatRecord), [`Name.Example.Test. 300 IN ${text}`]);
    assert.deepEqual(response.authority.map(formatRecord), [`example.test. 300 IN ${text}`]);
    assert.equal(response.answer[0]!.typeCode, recordTypeNamed(rdata.type).code);
    assert.deepEqual(response.answer[0]!.rdata, tail.subarray(10));
  });
}

/** A response with one answer record of `type` and the given RDATA, built by hand. */
function answerWith(type: number, rdata: number[]): Buffer {
  const question = encodeQuery({ id: 9, name: 'x.test', type }).subarray(12);
  const header = Buffer.from([0, 9, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
  const fixed = Buffer.from([0xc0, 12, type >> 8, type & 0xff, 0, 1, 0, 0, 0x0e, 0x10, 0, rdata.length]);
  return Buffer.concat([header, question, fixed, Buffer.from(rdata)]);
}

test('a type no descriptor serves is shown in the generic form of RFC 3597', () => {
  assert.deepEqual(decodeMessage(answerWith(RRType.HINFO, [1, 0x61, 1, 0x62]), presentRData).answer.map(formatRecord), ['x.test. 3600 IN HINFO \\# 4 01610162']);
});

const MALFORMED: [string, number, number[]][] = [
  ['an A record of 5 bytes', RRType.A, [1, 2, 3, 4, 5]],
  ['an A record of 3 bytes', RRType.A, [1, 2, 3]],
  ['an AAAA record of 4 bytes', RRType.AAAA, [1, 2, 3, 4]],
  ['an NS name that runs past its RDATA', RRType.NS, [3, 0x61, 0x62]],
  ['an MX without its name', RRType.MX, [0, 10]],
  ['a TXT string longer than its RDATA', RRType.TXT, [5, 0x61]],
  ['an SRV cut inside its port', RRType.SRV, [0, 1, 0, 2, 0]],
  ['a CAA tag longer than its RDATA', RRType.CAA, [0, 9, 0x61]],
  ['an SOA without its numbers', RRType.SOA, [0, 0]],
  ['a DS without its digest type', RRType.DS, [0, 1, 13]],
  ['a NAPTR string longer than its RDATA', RRType.NAPTR, [0, 1, 0, 1, 4, 0x55]],
  ['an HTTPS parameter longer than its RDATA', RRType.HTTPS, [0, 1, 0, 0, 3, 0, 2, 1]],
];
for (const [label, type, rdata] of MALFORMED) {
  test(`decodeMessage refuses ${label}`, () => {
    assert.throws(() => decodeMessage(answerWith(type, rdata), presentRData), MessageFormatError);
  });
}
