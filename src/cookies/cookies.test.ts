import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cookieOption, decodeQuery, encodeBadCookie, encodeQuery, encodeResponse, decodeMessage, EdnsOption, Rcode, type Query } from '../wire/index.js';
import { presentRData } from '../records/index.js';
import {
  COOKIE_FUTURE_SECONDS,
  COOKIE_LIFETIME_SECONDS,
  COOKIE_REFRESH_SECONDS,
  CookieState,
  parseCookieSecrets,
  ServerCookies,
  sipHash24,
  sipKey,
  writePeerAddress,
  type CookieSecrets,
} from './index.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s/g, ''), 'hex');

// The reference implementation's vectors (key 00..0f, message 00..len-1), as in the SipHash paper's
// appendix for 15 bytes; the others checked with `openssl mac -macopt size:8 SIPHASH`.
const SIPHASH_VECTORS: [length: number, output: string][] = [
  [0, '310e0edd47db6f72'],
  [1, 'fd67dc93c539f874'],
  [2, '5a4fa9d909806c0d'],
  [7, '37d1018bf50002ab'],
  [8, '6224939a79f5f593'],
  [15, 'e545be4961ca29a1'],
  [16, 'db9bc2577fcc2a3f'],
  [31, '42c341d8fa92d832'],
  [63, '724506eb4c328a95'],
];

test('SipHash-2-4 gives the reference vectors, at any offset in a buffer', () => {
  const key = sipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  const message = Buffer.concat([Buffer.from([0xee, 0xee, 0xee]), Buffer.from(Array.from({ length: 64 }, (_, i) => i))]);
  for (const [length, expected] of SIPHASH_VECTORS) {
    const out = Buffer.alloc(10, 0xaa);
    sipHash24(key, message, 3, 3 + length, out, 1);
    assert.equal(out.subarray(1, 9).toString('hex'), expected, `${length} bytes`);
    assert.equal(out[0], 0xaa, 'nothing written before the output');
    assert.equal(out[9], 0xaa, 'nothing written after the output');
  }
});

test('a SipHash key is 16 bytes', () => {
  assert.throws(() => sipKey(new Uint8Array(15)), /16 bytes/);
});

test('client addresses as the bytes the hash reads', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', '7f000001'],
    ['192.0.2.255', 'c00002ff'],
    ['::1', '00000000000000000000000000000001'],
    ['2001:db8::53', '20010db8000000000000000000000053'],
    ['2001:db8:1:2:3:4:5:6', '20010db8000100020003000400050006'],
    ['fe80::1%eth0', 'fe800000000000000000000000000001'],
    ['::ffff:192.0.2.1', 'c0000201'],
    ['::', '00000000000000000000000000000000'],
    ['2001:DB8::A:b', '20010db80000000000000000000a000b'],
  ];
  for (const [text, expected] of cases) {
    const out = Buffer.alloc(16);
    const length = writePeerAddress(text, out, 0);
    assert.equal(out.subarray(0, length).toString('hex'), expected, text);
  }
  for (const bad of ['', '1.2.3', '256.1.1.1', '1::2::3', '12345::', 'x']) assert.equal(writePeerAddress(bad, Buffer.alloc(16), 0), 0, bad);
});

const SECRET = hex('000102030405060708090a0b0c0d0e0f');
const OTHER_SECRET = hex('f0e0d0c0b0a090807060504030201000');
const CLIENT_COOKIE = hex('0102030405060708');

function cookieQuery(serverCookie?: Buffer): Query {
  const decoded = decodeQuery(encodeQuery({ id: 1, name: 'www.example.test', type: 'A', edns: { options: [cookieOption(CLIENT_COOKIE, serverCookie)] } }), 'udp');
  assert.equal(decoded.kind, 'query');
  return (decoded as { query: Query }).query;
}

function jar(secrets: CookieSecrets, clock: { now: number }): ServerCookies {
  return new ServerCookies(secrets, () => clock.now);
}

test('a server cookie is RFC 9018 version 1 with the hash Knot 3.2 mod-cookies computes for the same secret', () => {
  // Knot 3.2 with `secret: 0x000102…0f` answered client cookie 0102030405060708 from 127.0.0.1 at
  // timestamp 0x6b112254 with the server cookie 01000000 6b112254 81d9e76f9bdc393e.
  const clock = { now: 0x6b112254 };
  const query = cookieQuery();
  assert.equal(jar({ current: SECRET, previous: null }, clock).check(query, '127.0.0.1'), CookieState.CLIENT_ONLY);
  assert.equal(query.serverCookie!.toString('hex'), '010000006b11225481d9e76f9bdc393e');
});

test('a server cookie sent back is valid for an hour from its address, and up to 5 minutes early', () => {
  const clock = { now: 1_800_000_000 };
  const cookies = jar({ current: SECRET, previous: null }, clock);
  const first = cookieQuery();
  cookies.check(first, '192.0.2.1');
  const issued = Buffer.from(first.serverCookie!);
  for (const [age, state] of [
    [0, CookieState.VALID],
    [COOKIE_LIFETIME_SECONDS, CookieState.VALID],
    [COOKIE_LIFETIME_SECONDS + 1, CookieState.CLIENT_ONLY],
    [-COOKIE_FUTURE_SECONDS, CookieState.VALID],
    [-COOKIE_FUTURE_SECONDS - 1, CookieState.CLIENT_ONLY],
  ] as const) {
    clock.now = 1_800_000_000 + age;
    assert.equal(cookies.check(cookieQuery(issued), '192.0.2.1'), state, `age ${age} s`);
  }
  clock.now = 1_800_000_000;
  assert.equal(cookies.check(cookieQuery(issued), '192.0.2.2'), CookieState.CLIENT_ONLY, 'another address');
  const tampered = Buffer.from(issued);
  tampered[15]! ^= 1;
  assert.equal(cookies.check(cookieQuery(tampered), '192.0.2.1'), CookieState.CLIENT_ONLY, 'a changed hash');
  assert.equal(cookies.check(cookieQuery(Buffer.alloc(8, 7)), '192.0.2.1'), CookieState.CLIENT_ONLY, 'an 8-byte cookie of another server');
  assert.deepEqual(cookies.counters, { cookiesNone: 0, cookiesClientOnly: 1, cookiesValid: 3, cookiesInvalid: 5 });
});

test('a valid cookie is echoed while younger than half an hour, then replaced by a fresh one', () => {
  const clock = { now: 1_800_000_000 };
  const cookies = jar({ current: SECRET, previous: null }, clock);
  const first = cookieQuery();
  cookies.check(first, '2001:db8::1');
  const issued = Buffer.from(first.serverCookie!);
  clock.now += COOKIE_REFRESH_SECONDS;
  const young = cookieQuery(issued);
  assert.equal(cookies.check(young, '2001:db8::1'), CookieState.VALID);
  assert.deepEqual(young.serverCookie, issued, 'the same cookie back');
  clock.now += 1;
  const old = cookieQuery(issued);
  assert.equal(cookies.check(old, '2001:db8::1'), CookieState.VALID);
  assert.equal(old.serverCookie!.readUInt32BE(4), clock.now, 'a fresh timestamp');
  assert.equal(cookies.check(cookieQuery(Buffer.from(old.serverCookie!)), '2001:db8::1'), CookieState.VALID, 'the fresh one is valid');
});

test('rotation: a cookie of the previous secret is still accepted and replaced; one of an unknown secret is not', () => {
  const clock = { now: 1_800_000_000 };
  const before = jar({ current: OTHER_SECRET, previous: null }, clock);
  const first = cookieQuery();
  before.check(first, '198.51.100.7');
  const oldSecretCookie = Buffer.from(first.serverCookie!);

  const rotated = jar({ current: SECRET, previous: OTHER_SECRET }, clock);
  const again = cookieQuery(oldSecretCookie);
  assert.equal(rotated.check(again, '198.51.100.7'), CookieState.VALID);
  assert.notDeepEqual(again.serverCookie, oldSecretCookie, 'answered with a cookie of the new secret');
  assert.equal(jar({ current: SECRET, previous: null }, clock).check(cookieQuery(Buffer.from(again.serverCookie!)), '198.51.100.7'), CookieState.VALID);

  const rotatedTwice = jar({ current: hex('11'.repeat(16)), previous: SECRET }, clock);
  assert.equal(rotatedTwice.check(cookieQuery(oldSecretCookie), '198.51.100.7'), CookieState.CLIENT_ONLY, 'two secrets ago');
});

test('a query without a cookie is NONE and its response has no COOKIE option; with one, the response carries both cookies', () => {
  const cookies = jar({ current: SECRET, previous: null }, { now: 1_800_000_000 });
  const plain = decodeQuery(encodeQuery({ id: 2, name: 'www.example.test', type: 'A', edns: {} }), 'udp');
  assert.equal(plain.kind, 'query');
  const plainQuery = (plain as { query: Query }).query;
  assert.equal(cookies.check(plainQuery, '192.0.2.1'), CookieState.NONE);
  assert.equal(plainQuery.serverCookie, null);
  const sections = { rcode: 0, authoritative: true, answer: [], authority: [], additional: [], extraAdditional: [], ecsScope: 0 };
  const noCookie = decodeMessage(encodeResponse(plainQuery, sections, 1232, { nsid: null }), presentRData);
  assert.equal(noCookie.opt?.options.length, 0);

  const query = cookieQuery();
  cookies.check(query, '192.0.2.1');
  const response = decodeMessage(encodeResponse(query, sections, 1232, { nsid: null }), presentRData);
  assert.deepEqual(response.opt?.options, [{ code: EdnsOption.COOKIE, data: Buffer.concat([CLIENT_COOKIE, query.serverCookie!]) }]);
});

test('BADCOOKIE: extended rcode 23, no records, the client cookie and a fresh server cookie', () => {
  const cookies = jar({ current: SECRET, previous: null }, { now: 1_800_000_000 });
  const query = cookieQuery(Buffer.alloc(16, 9));
  assert.equal(cookies.check(query, '192.0.2.1'), CookieState.CLIENT_ONLY);
  const wire = encodeBadCookie(query, { nsid: null });
  const response = decodeMessage(wire, presentRData);
  assert.equal(response.rcode, Rcode.BADCOOKIE);
  assert.equal(wire[3]! & 0xf, 7, 'the low four bits in the header');
  assert.equal(response.opt?.extendedRcode, 1, 'the high bits in the OPT');
  assert.equal(response.flags.aa, false);
  assert.deepEqual([response.answer.length, response.authority.length, response.additional.length], [0, 0, 0]);
  const cookie = response.opt!.options.find((option) => option.code === EdnsOption.COOKIE)!.data;
  assert.deepEqual(cookie.subarray(0, 8), CLIENT_COOKIE);
  assert.equal(cookies.check(cookieQuery(Buffer.from(cookie.subarray(8))), '192.0.2.1'), CookieState.VALID, 'the cookie it carries is accepted');
});

test('secret files: one or two secrets in hex, comments and 0x allowed, anything else refused with its line', () => {
  assert.deepEqual(parseCookieSecrets('000102030405060708090a0b0c0d0e0f\n', 's'), { current: SECRET, previous: null });
  assert.deepEqual(parseCookieSecrets('# rotated 2026-12-01\n0x000102030405060708090A0B0C0D0E0F\n\nf0e0d0c0b0a090807060504030201000 # old\n', 's'), {
    current: SECRET,
    previous: OTHER_SECRET,
  });
  assert.throws(() => parseCookieSecrets('\n# nothing\n', 'secret.txt'), /secret.txt: no cookie secret/);
  assert.throws(() => parseCookieSecrets('0001020304\n', 'secret.txt'), /secret.txt:1: a cookie secret is 16 bytes/);
  assert.throws(() => parseCookieSecrets(`${'00'.repeat(16)}\n${'zz'.repeat(16)}\n`, 'secret.txt'), /secret.txt:2:/);
  assert.throws(() => parseCookieSecrets(`${'00'.repeat(16)}\n`.repeat(3), 'secret.txt'), /secret.txt:3: at most two secrets/);
});
