/**
 * Response rate limiting in the packet handler, without sockets: which answers share a token (the
 * response classes keyed by the bytes at hand), what a slip looks like on the wire (Knot's: the
 * header with TC=1, the question and the OPT, nothing else), and what is never limited (TCP,
 * the ECS subnet).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servingOf } from '../../test/support/compiled-zones.js';
import { ServerCookies } from '../cookies/index.js';
import { DEFAULT_RATE_LIMIT, ResponseRateLimiter } from '../rate-limit/index.js';
import { presentRData } from '../records/index.js';
import { cookieOption, decodeMessage, EdnsOption, encodeQuery, type Transport } from '../wire/index.js';
import { createPacketHandler, newQueryCounters, responseTo } from './handle-packet.js';

const ZONE = `zone: r.test
soa: { mname: ns1.r.test, rname: h.r.test }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  www: { A: 192.0.2.10 }
  mail: { A: 192.0.2.25 }
  sub: { NS: ns.sub.example.net. }
  other: { NS: ns.other.example.net. }
  "*.w": { A: 192.0.2.99 }
  "*.alias": { CNAME: www }
`;

const RATE = 3;

function limitedHandler(slip = 1) {
  const limiter = new ResponseRateLimiter({ ...DEFAULT_RATE_LIMIT, rate: RATE, slip }, 1);
  const serving = servingOf([ZONE]);
  const cookies = new ServerCookies({ current: Buffer.alloc(16, 7), previous: null }, () => 1_000_000);
  const handler = createPacketHandler(() => serving, { nsid: null }, newQueryCounters(), null, () => undefined, limiter, cookies);
  const handle = (packet: Buffer, transport: Transport, peer: string): Buffer | null => responseTo(handler, packet, transport, peer);
  /** How many of `count` queries got a full answer (not limited). */
  const answered = (name: string, type: string, count: number, peer = '192.0.2.1', transport: Transport = 'udp', clientSubnet?: string): number => {
    let full = 0;
    for (let i = 0; i < count; i++) {
      const response = handle(encodeQuery({ id: i, name, type, edns: clientSubnet ? { clientSubnet } : null }), transport, peer);
      if (response !== null && (response[2]! & 0x02) === 0) full++;
    }
    return full;
  };
  return { handle, limiter, answered };
}

test('positive answers and NODATA are counted per query name, in any letter case', () => {
  const { answered } = limitedHandler();
  assert.equal(answered('www.r.test', 'A', 5), RATE);
  assert.equal(answered('WwW.r.TEST', 'A', 2), 0, '0x20 case: the same name');
  assert.equal(answered('mail.r.test', 'A', 5), RATE, 'another name');
  assert.equal(answered('www.r.test', 'TXT', 5), RATE, 'NODATA is its own class');
});

test('NXDOMAIN is counted per zone, so a flood of random names is one token', () => {
  const { answered } = limitedHandler();
  let full = 0;
  for (let i = 0; i < 10; i++) full += answered(`random-${i}.r.test`, 'A', 1);
  assert.equal(full, RATE);
});

test('names a wildcard answers are counted per zone (as Knot), whether records, NODATA or a CNAME', () => {
  const { answered } = limitedHandler();
  let full = 0;
  for (let i = 0; i < 4; i++) full += answered(`r${i}.w.r.test`, 'A', 1) + answered(`n${i}.w.r.test`, 'TXT', 1) + answered(`c${i}.alias.r.test`, 'A', 1);
  assert.equal(full, RATE);
  assert.equal(answered('www.r.test', 'A', 5), RATE, 'a name the zone holds keeps its own token');
});

test('referrals are counted per delegation point; errors (REFUSED) per prefix whatever the name', () => {
  const { answered } = limitedHandler();
  assert.equal(answered('a.sub.r.test', 'A', 3) + answered('b.sub.r.test', 'A', 3), RATE);
  assert.equal(answered('x.other.r.test', 'A', 5), RATE, 'another delegation');
  assert.equal(answered('one.example.org', 'A', 3) + answered('two.example.com', 'A', 3), RATE, 'REFUSED');
});

test('the client is the socket peer by its /24, never the ECS subnet the query names', () => {
  const { answered } = limitedHandler();
  assert.equal(answered('www.r.test', 'A', 2, '192.0.2.1', 'udp', '198.51.100.0/24') + answered('www.r.test', 'A', 3, '192.0.2.99', 'udp', '203.0.113.0/24'), RATE);
  assert.equal(answered('www.r.test', 'A', 3, '192.0.3.1'), RATE, 'another /24');
});

test('TCP is never limited', () => {
  const { answered } = limitedHandler();
  assert.equal(answered('www.r.test', 'A', RATE + 2), RATE);
  assert.equal(answered('www.r.test', 'A', 50, '192.0.2.1', 'tcp'), 50);
});

test('a slipped reply is what Knot sends: QR, AA, TC and RD, the question as asked, the OPT, no records', () => {
  const { handle } = limitedHandler(1);
  const ask = (): Buffer => handle(encodeQuery({ id: 0x1234, name: 'WwW.r.test', type: 'A', flags: { rd: true }, edns: {} }), 'udp', '192.0.2.1')!;
  for (let i = 0; i < RATE; i++) ask();
  const slip = ask();
  // Byte for byte Knot 3.2's slip (mod-rrl, slip 1) to the same query for WwW.t.test, the zone renamed.
  const knot = '1234870000010000000000010357775701740474657374000001000100002904d0000000000000';
  assert.equal(slip.toString('hex'), knot.replace('0357775701740474657374', '0357775701720474657374'));
  const message = decodeMessage(slip, presentRData);
  assert.equal(message.question[0]?.name, 'WwW.r.test.');
  assert.equal(message.answer.length + message.authority.length, 0);
});

test('a rejected request (FORMERR) over the limit is an error token too, slipped as the same header with TC=1', () => {
  const { handle, limiter } = limitedHandler(1);
  const bad = encodeQuery({ id: 9, name: 'www.r.test', type: 'A' });
  bad.writeUInt16BE(2, 4); // QDCOUNT 2: FORMERR
  const responses = Array.from({ length: RATE + 1 }, () => handle(bad, 'udp', '192.0.2.1')!);
  assert.ok(responses.slice(0, RATE).every((r) => (r[3]! & 0x0f) === 1 && (r[2]! & 0x02) === 0));
  assert.equal(responses[RATE]![2]! & 0x02, 0x02);
  assert.equal(limiter.counters.slipped, 1);
});

test('with cookies: a valid server cookie is never limited; a client cookie alone over the limit gets BADCOOKIE with a fresh server cookie', () => {
  const { handle, limiter, answered } = limitedHandler(2);
  const clientCookie = Buffer.from('0123456789abcdef', 'hex');
  const ask = (serverCookie?: Buffer) =>
    decodeMessage(handle(encodeQuery({ id: 1, name: 'www.r.test', type: 'A', edns: { options: [cookieOption(clientCookie, serverCookie)] } }), 'udp', '192.0.2.1')!, presentRData);
  const first = ask();
  const cookie = first.opt!.options.find((option) => option.code === EdnsOption.COOKIE)!.data;
  assert.equal(cookie.length, 24, 'client cookie + RFC 9018 server cookie');
  assert.equal(answered('www.r.test', 'A', RATE), RATE - 1, 'the rest of the bucket, without cookies');
  const over = ask();
  assert.equal(over.rcodeName, 'BADCOOKIE');
  assert.equal(over.answer.length, 0);
  assert.equal(over.opt!.options.find((option) => option.code === EdnsOption.COOKIE)!.data.length, 24, 'a server cookie to retry with');
  assert.equal(limiter.counters.badCookie, 1);
  for (let i = 0; i < 10; i++) {
    const valid = ask(cookie.subarray(8));
    assert.equal(valid.flags.tc, false);
    assert.deepEqual(valid.answer.map((record) => record.data), ['192.0.2.10'], 'a valid server cookie cannot be spoofed: never limited');
  }
  assert.equal(answered('www.r.test', 'A', 2), 0, 'the same prefix without cookies is still limited');
});
