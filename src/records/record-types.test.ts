/**
 * Every record type end to end through its descriptor: zone file text → the parser's RDATA →
 * wire bytes (checked against the RFC layouts, written out here by hand) → dig's presentation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZoneFile } from '../zones/index.js';
import { MessageRDataCursor } from '../wire/index.js';
import { encodeRecordTail, RECORD_TYPES, recordTypeNamed, TYPE_CODES_FOR_ANY, type RData } from './index.js';

/** RDATA of the records `key` holds at www.t.test, as the zone parser reads them. */
function recordsOf(key: string, value: string): RData[] {
  const text = `zone: t.test\nsoa: { mname: ns1.t.test, rname: hostmaster.t.test }\nrecords:\n  "@": { NS: ns1 }\n  www: { ${key}: ${value} }\n`;
  const result = parseZoneFile('t.yaml', text);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  const name = result.zone.names.find((n) => n.name === 'www.t.test')!;
  return [...(name.records.get(key as RData['type']) ?? [])];
}

/** Uncompressed wire name, written independently of the encoder under test. */
function wireName(name: string): number[] {
  return [...name.split('.').flatMap((label) => [label.length, ...Buffer.from(label)]), 0];
}
const u16 = (n: number): number[] => [n >> 8, n & 0xff];
/** A SHA-256 digest (of nothing), as DS, TLSA and SSHFP carry one. */
const HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const HASH_BYTES = [...Buffer.from(HASH, 'hex')];
const u32 = (n: number): number[] => [...u16(n >>> 16), ...u16(n & 0xffff)];

/** TYPE, CLASS IN, TTL 300, RDLENGTH, RDATA. */
function tail(code: number, rdata: number[]): Buffer {
  return Buffer.from([...u16(code), 0, 1, ...u32(300), ...u16(rdata.length), ...rdata]);
}

function present(rdata: RData, encoded: Buffer): string {
  return recordTypeNamed(rdata.type).present(new MessageRDataCursor(encoded, 10, encoded.length));
}

const cases: Array<{ key: string; value: string; code: number; rdata: number[]; shown: string }> = [
  { key: 'A', value: '192.0.2.1', code: 1, rdata: [192, 0, 2, 1], shown: '192.0.2.1' },
  { key: 'AAAA', value: '"2001:DB8::1"', code: 28, rdata: [0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1], shown: '2001:db8::1' },
  { key: 'NS', value: 'ns2.example.org.', code: 2, rdata: wireName('ns2.example.org'), shown: 'ns2.example.org.' },
  { key: 'CNAME', value: 'web', code: 5, rdata: wireName('web.t.test'), shown: 'web.t.test.' },
  { key: 'MX', value: '{ preference: 10, exchange: mail }', code: 15, rdata: [...u16(10), ...wireName('mail.t.test')], shown: '10 mail.t.test.' },
  { key: 'TXT', value: '"v=spf1 -all"', code: 16, rdata: [11, ...Buffer.from('v=spf1 -all')], shown: '"v=spf1 -all"' },
  { key: 'TXT', value: '1.10', code: 16, rdata: [4, ...Buffer.from('1.10')], shown: '"1.10"' },
  {
    key: 'SRV',
    value: '{ priority: 1, weight: 2, port: 5060, target: sip }',
    code: 33,
    // RFC 2782: the target is never compressed.
    rdata: [...u16(1), ...u16(2), ...u16(5060), ...wireName('sip.t.test')],
    shown: '1 2 5060 sip.t.test.',
  },
  { key: 'CAA', value: '{ tag: issue, value: "ca.example" }', code: 257, rdata: [0, 5, ...Buffer.from('issueca.example')], shown: '0 issue "ca.example"' },
  { key: 'PTR', value: 'host.example.net.', code: 12, rdata: wireName('host.example.net'), shown: 'host.example.net.' },
  { key: 'DS', value: `{ key_tag: 12345, algorithm: 13, digest_type: 2, digest: "${HASH}" }, NS: ns1`, code: 43, rdata: [...u16(12345), 13, 2, ...HASH_BYTES], shown: `12345 13 2 ${HASH.toUpperCase()}` },
  { key: 'TLSA', value: `{ usage: 3, selector: 1, matching_type: 1, data: "${HASH}" }`, code: 52, rdata: [3, 1, 1, ...HASH_BYTES], shown: `3 1 1 ${HASH.toUpperCase()}` },
  { key: 'SSHFP', value: `{ algorithm: 4, fingerprint_type: 2, fingerprint: "${HASH}" }`, code: 44, rdata: [4, 2, ...HASH_BYTES], shown: `4 2 ${HASH.toUpperCase()}` },
  {
    key: 'NAPTR',
    value: '{ order: 100, preference: 10, flags: U, service: "E2U+sip", regexp: "!^.*$!sip:info@example.net!" }',
    code: 35,
    // RFC 3403 §4.1: three <character-string>s, then the replacement (here the root), never compressed.
    rdata: [...u16(100), ...u16(10), 1, ...Buffer.from('U'), 7, ...Buffer.from('E2U+sip'), 27, ...Buffer.from('!^.*$!sip:info@example.net!'), 0],
    shown: '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .',
  },
  {
    key: 'SVCB',
    value: '{ priority: 1, target: ".", port: 8443, alpn: [h2, h3], mandatory: [port, alpn] }',
    code: 64,
    // RFC 9460 §2.2: parameters in ascending key order (mandatory 0, alpn 1, port 3), mandatory's keys sorted.
    rdata: [...u16(1), 0, ...u16(0), ...u16(4), ...u16(1), ...u16(3), ...u16(1), ...u16(6), 2, ...Buffer.from('h2'), 2, ...Buffer.from('h3'), ...u16(3), ...u16(2), ...u16(8443)],
    shown: '1 . mandatory=alpn,port alpn="h2,h3" port=8443',
  },
  { key: 'HTTPS', value: '{ priority: 0, target: cdn.example.net. }', code: 65, rdata: [...u16(0), ...wireName('cdn.example.net')], shown: '0 cdn.example.net.' },
  {
    key: 'HTTPS',
    value: '{ priority: 2, target: web, ipv6hint: "2001:db8::1", ech: AAEC, ipv4hint: [192.0.2.1, 192.0.2.2], no-default-alpn: true, alpn: h2 }',
    code: 65,
    rdata: [
      ...u16(2), ...wireName('web.t.test'),
      ...u16(1), ...u16(3), 2, ...Buffer.from('h2'),
      ...u16(2), ...u16(0),
      ...u16(4), ...u16(8), 192, 0, 2, 1, 192, 0, 2, 2,
      ...u16(5), ...u16(3), 0, 1, 2,
      ...u16(6), ...u16(16), 0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1,
    ],
    shown: '2 web.t.test. alpn="h2" no-default-alpn ipv4hint=192.0.2.1,192.0.2.2 ech=AAEC ipv6hint=2001:db8::1',
  },
  { key: 'TYPE65400', value: '"\\\\# 4 0a000001"', code: 65400, rdata: [10, 0, 0, 1], shown: '\\# 4 0A000001' },
  { key: 'TYPE65401', value: '"\\\\# 0"', code: 65401, rdata: [], shown: '\\# 0' },
];

for (const c of cases) {
  test(`${c.key} ${c.value}: RDATA per its RFC and presented as dig does`, () => {
    const [rdata, ...more] = recordsOf(c.key, c.value);
    assert.equal(more.length, 0);
    const encoded = encodeRecordTail(rdata!, 300);
    assert.deepEqual(encoded, tail(c.code, c.rdata));
    assert.equal(present(rdata!, encoded), c.shown);
  });
}

test('TXT text over 255 bytes is split into character-strings of at most 255', () => {
  const text = 'x'.repeat(300);
  const [rdata] = recordsOf('TXT', JSON.stringify(text));
  const encoded = encodeRecordTail(rdata!, 300);
  assert.deepEqual(encoded, tail(16, [255, ...Buffer.from('x'.repeat(255)), 45, ...Buffer.from('x'.repeat(45))]));
  assert.equal(present(rdata!, encoded), `"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
});

test('SOA RDATA: two names then five 32-bit numbers', () => {
  const soa: RData = { type: 'SOA', mname: 'ns1.t.test', rname: 'hostmaster.t.test', serial: 2026010101, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 };
  const encoded = encodeRecordTail(soa, 300);
  assert.deepEqual(encoded, tail(6, [...wireName('ns1.t.test'), ...wireName('hostmaster.t.test'), ...[2026010101, 7200, 900, 1209600, 60].flatMap(u32)]));
  assert.equal(present(soa, encoded), 'ns1.t.test. hostmaster.t.test. 2026010101 7200 900 1209600 60');
});

test('a name holds one CNAME: a list is reported at its position', () => {
  const result = parseZoneFile('t.yaml', 'zone: t.test\nsoa: { mname: ns1.t.test, rname: h.t.test }\nrecords:\n  "@": { NS: ns1 }\n  www: { CNAME: [a, b] }\n');
  assert.ok(!result.ok);
  assert.deepEqual(
    result.diagnostics.map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`),
    ['5:17 bad-type a name has one CNAME target, not a list'],
  );
});

test('the table: names, codes and ANY ranks are each used once; every type but SOA is a zone file key', () => {
  assert.equal(new Set(RECORD_TYPES.map((t) => t.name)).size, RECORD_TYPES.length);
  assert.equal(new Set(RECORD_TYPES.map((t) => t.code)).size, RECORD_TYPES.length);
  assert.equal(new Set(TYPE_CODES_FOR_ANY).size, RECORD_TYPES.length);
  assert.deepEqual(RECORD_TYPES.filter((t) => t.yaml === null).map((t) => t.name), ['SOA']);
  // RFC 8482 §4.1 leaves the choice to the server; addresses first is what clients of ANY want.
  assert.deepEqual(TYPE_CODES_FOR_ANY.slice(0, 2), [1, 28]);
});
