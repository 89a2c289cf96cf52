/**
 * The header rules of issue 2 "On the wire": AA, RD copied, RA never, qname case kept, REFUSED
 * outside our zones, NOTIMP for other opcodes, FORMERR for QDCOUNT ≠ 1 and malformed packets,
 * QR=1 dropped. Raw packets, plus dig for the flags an operator sees.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildQuery,
  encodeName,
  formatSection,
  OPCODES,
  parseResponse,
  query,
  sendTcp,
  sendUdp,
  sendUdpMaybe,
  sortedLines,
  type Address,
} from '../support/dns-client.js';
import { contractZone, dig, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

let server: TestServer;
let udp: Address;

before(async () => {
  server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() } });
  udp = server.v4;
});
after(() => server.close());

const STATIC_A = ['192.0.2.10', '192.0.2.11', '192.0.2.12'];

test('an authoritative answer has AA and QR, never RA', async () => {
  const res = await query(udp, 'static.example.test', 'A');
  assert.equal(res.rcodeName, 'NOERROR');
  assert.equal(res.flags.qr, true);
  assert.equal(res.flags.aa, true);
  assert.equal(res.flags.ra, false);
  assert.equal(res.flags.tc, false);
  assert.deepEqual(sortedLines(res.answer), STATIC_A.map((a) => `static.example.test. 60 IN A ${a}`));
});

test('RD is copied from the query (set and clear), RA stays clear', async () => {
  const withRd = await query(udp, 'static.example.test', 'A', { flags: { rd: true } });
  assert.equal(withRd.flags.rd, true);
  assert.equal(withRd.flags.ra, false);
  const withoutRd = await query(udp, 'static.example.test', 'A', { flags: { rd: false } });
  assert.equal(withoutRd.flags.rd, false);
  assert.equal(withoutRd.flags.ra, false);
  // Over TCP too, and on a negative answer.
  const nx = await query(udp, 'nope.example.test', 'A', { flags: { rd: true }, tcp: true });
  assert.equal(nx.flags.rd, true);
  assert.equal(nx.flags.ra, false);
  assert.equal(nx.flags.aa, true);
});

test('the query ID is echoed, including 0 and 0xffff', async () => {
  for (const id of [0, 1, 0x1234, 0xffff]) {
    const res = await query(udp, 'static.example.test', 'A', { id });
    assert.equal(res.id, id);
  }
});

test('qname case is preserved in the echoed question and in the answer owner', async () => {
  const res = await query(udp, 'StAtIc.ExAmPlE.TeSt', 'A');
  assert.deepEqual(res.question, [{ name: 'StAtIc.ExAmPlE.TeSt.', type: 'A', qclass: 1 }]);
  assert.deepEqual(sortedLines(res.answer), STATIC_A.map((a) => `StAtIc.ExAmPlE.TeSt. 60 IN A ${a}`));
  // The question is byte-for-byte the one sent.
  const sent = buildQuery({ id: 7, name: 'StAtIc.ExAmPlE.TeSt', type: 'A' });
  const raw = await sendUdp(udp, sent);
  assert.deepEqual(raw.subarray(12, sent.length), sent.subarray(12));
});

test('qname case is preserved for a negative answer and over TCP', async () => {
  const res = await query(udp, 'NoPe.Example.TEST', 'AAAA', { tcp: true });
  assert.equal(res.rcodeName, 'NXDOMAIN');
  assert.deepEqual(res.question, [{ name: 'NoPe.Example.TEST.', type: 'AAAA', qclass: 1 }]);
});

test('dig +norec sees flags "qr aa" only', async () => {
  const out = await dig(udp, ['+norec', 'static.example.test', 'A']);
  assert.match(out, /status: NOERROR/);
  assert.match(out, /;; flags: qr aa;/);
  const rec = await dig(udp, ['+rec', 'static.example.test', 'A']);
  assert.match(rec, /;; flags: qr aa rd;/, 'RD is copied, RA is not set');
});

test('IPv6 listener answers over UDP and TCP', async () => {
  const viaUdp = await query(server.v6, 'ns1.example.test', 'AAAA');
  assert.deepEqual(formatSection(viaUdp.answer), ['ns1.example.test. 300 IN AAAA 2001:db8::53']);
  const viaTcp = await query(server.v6, 'ns1.example.test', 'A', { tcp: true });
  assert.deepEqual(formatSection(viaTcp.answer), ['ns1.example.test. 300 IN A 192.0.2.53']);
});

test('names outside every zone are REFUSED, without AA', async () => {
  for (const name of ['example.org', 'www.example.org', 'test', '.', 'example.testing', 'xexample.test']) {
    const res = await query(udp, name, 'A');
    assert.equal(res.rcodeName, 'REFUSED', name);
    assert.equal(res.flags.aa, false, name);
    assert.equal(res.answer.length + res.authority.length, 0, name);
    assert.equal(res.question[0]?.name, name === '.' ? '.' : `${name}.`);
  }
});

test('opcodes other than QUERY get NOTIMP, with the opcode echoed', async () => {
  for (const [label, opcode] of [
    ['IQUERY', OPCODES.IQUERY],
    ['STATUS', OPCODES.STATUS],
    ['NOTIFY', OPCODES.NOTIFY],
    ['UPDATE', OPCODES.UPDATE],
    ['reserved 15', 15],
  ] as const) {
    const res = await query(udp, 'example.test', 'SOA', { flags: { opcode } });
    assert.equal(res.rcodeName, 'NOTIMP', label);
    assert.equal(res.opcode, opcode, label);
    assert.equal(res.answer.length, 0, label);
  }
  // dig agrees: NOTIFY is not implemented.
  const out = await dig(udp, ['+opcode=notify', '+norec', 'example.test', 'SOA']);
  assert.match(out, /opcode: NOTIFY, status: NOTIMP/);
});

test('QDCOUNT 0 gets FORMERR', async () => {
  const header = Buffer.from([0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const res = parseResponse(await sendUdp(udp, header));
  assert.equal(res.id, 0x1234);
  assert.equal(res.rcodeName, 'FORMERR');
  assert.equal(res.flags.qr, true);
  assert.equal(res.counts.qd, 0);
});

test('QDCOUNT 2 gets FORMERR, with or without the second question present', async () => {
  const two = buildQuery({ id: 1, name: 'static.example.test', type: 'A', extraQuestions: [{ name: 'mail.example.test', type: 'A' }] });
  const res = parseResponse(await sendUdp(udp, two));
  assert.equal(res.rcodeName, 'FORMERR');
  assert.equal(res.answer.length, 0);
  const claimed = buildQuery({ id: 2, name: 'static.example.test', type: 'A', qdcount: 2 });
  assert.equal(parseResponse(await sendUdp(udp, claimed)).rcodeName, 'FORMERR');
  const many = buildQuery({ id: 3, name: 'static.example.test', type: 'A', qdcount: 0xffff });
  assert.equal(parseResponse(await sendUdp(udp, many)).rcodeName, 'FORMERR');
});

test('a response (QR=1) is dropped, and the next query is still answered', async () => {
  const response = buildQuery({ name: 'static.example.test', type: 'A', flags: { qr: true, aa: true } });
  assert.equal(await sendUdpMaybe(udp, response, 400), null);
  // A QR=1 with an error rcode too.
  assert.equal(await sendUdpMaybe(udp, buildQuery({ name: 'example.test', type: 'SOA', flags: 0x8000 | 0x0003 }), 300), null);
  const next = await query(udp, 'static.example.test', 'A');
  assert.equal(next.rcodeName, 'NOERROR');
  assert.equal(next.answer.length, 3);
});

test('packets shorter than a header are dropped', async () => {
  const replies = await Promise.all([0, 1, 2, 11].map((length) => sendUdpMaybe(udp, Buffer.alloc(length, 0x01), 300)));
  assert.deepEqual(replies, [null, null, null, null]);
  assert.equal((await query(udp, 'mail.example.test', 'A')).rcodeName, 'NOERROR');
});

test('a header with a truncated question gets FORMERR with the ID echoed', async () => {
  const full = buildQuery({ id: 0xbeef, name: 'static.example.test', type: 'A' });
  for (const cut of [12, 13, 20, full.length - 4, full.length - 1]) {
    const res = parseResponse(await sendUdp(udp, full.subarray(0, cut)));
    assert.equal(res.id, 0xbeef, `cut at ${cut}`);
    assert.equal(res.rcodeName, 'FORMERR', `cut at ${cut}`);
    assert.equal(res.answer.length, 0);
  }
});

test('trailing bytes after the message get FORMERR', async () => {
  const res = parseResponse(await sendUdp(udp, buildQuery({ name: 'static.example.test', type: 'A', trailing: Buffer.from([1, 2, 3]) })));
  assert.equal(res.rcodeName, 'FORMERR');
});

test('a compression pointer in the question gets FORMERR', async () => {
  const header = Buffer.from([0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const selfLoop = Buffer.concat([header, Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  assert.equal(parseResponse(await sendUdp(udp, selfLoop)).rcodeName, 'FORMERR');
  const labelThenPointer = Buffer.concat([header, Buffer.from([3, 0x77, 0x77, 0x77, 0xc0, 0x0c, 0, 1, 0, 1])]);
  assert.equal(parseResponse(await sendUdp(udp, labelThenPointer)).rcodeName, 'FORMERR');
});

test('an over-long question name (more than 255 bytes) gets FORMERR', async () => {
  const label = Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 0x61)]);
  const name = Buffer.concat([label, label, label, label, encodeName('example.test')]);
  const packet = Buffer.concat([Buffer.from([0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), name, Buffer.from([0, 1, 0, 1])]);
  assert.equal(parseResponse(await sendUdp(udp, packet)).rcodeName, 'FORMERR');
});

test('answer and authority records in a query are skipped when well formed, FORMERR when not', async () => {
  // A query carrying one well-formed record in the answer section still gets an answer.
  const base = buildQuery({ id: 11, name: 'static.example.test', type: 'A' });
  const record = Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1])]);
  const withAnswer = Buffer.concat([base, record]);
  withAnswer.writeUInt16BE(1, 6);
  const ok = parseResponse(await sendUdp(udp, withAnswer));
  assert.equal(ok.rcodeName, 'NOERROR');
  // ANCOUNT 0xffff with no records behind it.
  const bogus = Buffer.from(base);
  bogus.writeUInt16BE(0xffff, 6);
  assert.equal(parseResponse(await sendUdp(udp, bogus)).rcodeName, 'FORMERR');
  const bogusAr = Buffer.from(base);
  bogusAr.writeUInt16BE(0xffff, 10);
  assert.equal(parseResponse(await sendUdp(udp, bogusAr)).rcodeName, 'FORMERR');
});

test('TCP gives the same answers as UDP for the same questions', async () => {
  const questions: [string, string][] = [
    ['example.test', 'SOA'],
    ['example.test', 'NS'],
    ['example.test', 'MX'],
    ['nope.example.test', 'A'],
    ['example.org', 'A'],
  ];
  for (const [name, type] of questions) {
    const message = buildQuery({ id: 99, name, type });
    const viaUdp = parseResponse(await sendUdp(udp, message));
    const [tcpRaw] = await sendTcp(udp, [message]);
    const viaTcp = parseResponse(tcpRaw!);
    assert.equal(viaTcp.rcode, viaUdp.rcode, `${name} ${type}`);
    assert.deepEqual(viaTcp.flags, viaUdp.flags, `${name} ${type}`);
    assert.deepEqual(sortedLines(viaTcp.answer), sortedLines(viaUdp.answer), `${name} ${type}`);
    assert.deepEqual(sortedLines(viaTcp.authority), sortedLines(viaUdp.authority), `${name} ${type}`);
  }
});
