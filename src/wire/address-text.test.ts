/**
 * Address text ↔ binary: every way an address can be written read into words and bits, bad text
 * rejected (never thrown on the query path), and the two RFC 5952 printings (dig's, IPv4-mapped
 * dotted, and the canonical one of zones and probe keys, in hex groups).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressBits, addressBytes, canonicalAddress, formatPrefix, ipv4Text, ipv6Text, readAddress, readAddressBlock, readAddressWords, wordsBits } from './address-text.js';

function read(text: string, reader = readAddress): [number, number[]] {
  const words = new Uint32Array(4);
  const family = reader(text, words);
  return [family, [...words]];
}

test('readAddress: addresses as sockets report them become four words (IPv4 in the first)', () => {
  assert.deepEqual(read('192.0.2.1'), [4, [0xc0000201, 0, 0, 0]]);
  assert.deepEqual(read('::ffff:192.0.2.1'), [4, [0xc0000201, 0, 0, 0]], 'IPv4-mapped');
  assert.deepEqual(read('::FFFF:c000:201'), [4, [0xc0000201, 0, 0, 0]], 'IPv4-mapped in hex');
  assert.deepEqual(read('2001:db8::1'), [6, [0x20010db8, 0, 0, 1]]);
  assert.deepEqual(read('::1'), [6, [0, 0, 0, 1]]);
  assert.deepEqual(read('::'), [6, [0, 0, 0, 0]]);
  assert.deepEqual(read('fe80::1%eth0'), [6, [0xfe800000, 0, 0, 1]]);
  assert.deepEqual(read('192.0.2.1%eth0'), [4, [0xc0000201, 0, 0, 0]]);
  assert.deepEqual(read('2001:DB8:1:2:3:4:5:6'), [6, [0x20010db8, 0x00010002, 0x00030004, 0x00050006]]);
  assert.deepEqual(read('64:ff9b::192.0.2.1'), [6, [0x0064ff9b, 0, 0, 0xc0000201]]);
  assert.deepEqual(read('1::'), [6, [0x00010000, 0, 0, 0]]);
  assert.deepEqual(read('1:2:3:4:5:6:7::'), [6, [0x00010002, 0x00030004, 0x00050006, 0x00070000]]);
});

test('readAddressWords keeps an IPv4-mapped address IPv6', () => {
  assert.deepEqual(read('::ffff:192.0.2.1', readAddressWords), [6, [0, 0, 0xffff, 0xc0000201]]);
  assert.deepEqual(read('192.0.2.1', readAddressWords), [4, [0xc0000201, 0, 0, 0]]);
});

test('text that is no address reads as family 0', () => {
  for (const text of ['', 'localhost', '1.2.3', '1.2.3.256', '1.2.3.4.5', '1..2.3', '2001:db8::1::2', '12345::', ':1', ':::', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:2:3:4::5:6:7:8', 'g::1', '1:', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4:1', '%', ' ::1']) {
    assert.equal(read(text)[0], 0, text);
    assert.equal(read(text, readAddressWords)[0], 0, text);
  }
});

const bitsCases: [text: string, family: 4 | 6, bits: bigint][] = [
  ['192.0.2.1', 4, 0xc0000201n],
  ['0.0.0.0', 4, 0n],
  ['255.255.255.255', 4, 0xffffffffn],
  ['2001:db8::1', 6, 0x20010db8000000000000000000000001n],
  ['2001:DB8:0:0:0:0:0:1', 6, 0x20010db8000000000000000000000001n],
  ['::', 6, 0n],
  ['::1', 6, 1n],
  ['fe80::', 6, 0xfe800000000000000000000000000000n],
  ['::ffff:192.0.2.1', 6, 0xffffc0000201n],
  ['::ffff:c000:201', 6, 0xffffc0000201n],
  ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
  ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 6, (1n << 128n) - 1n],
];
for (const [text, family, bits] of bitsCases) {
  test(`addressBits: ${text}`, () => assert.equal(addressBits(text, family), bits));
}

test('addressBits ignores a zone index (fe80::1%eth0, as a socket reports a link-local peer)', () => {
  assert.equal(addressBits('fe80::1%eth0', 6), addressBits('fe80::1', 6));
  assert.equal(addressBits('fe80::1%2', 6), 0xfe800000000000000000000000000001n);
});

test('addressBits never throws: text that is not an address of the family reads as 0', () => {
  for (const [text, family] of [['', 4], ['1.2.3', 4], ['1.2.3.256', 4], ['a.b.c.d', 4], ['', 6], [':::', 6], ['1::2::3', 6], ['12345::', 6], ['1:2:3:4:5:6:7:8:9', 6], ['::1.2.3', 6], ['%', 6], ['g::1', 6], ['192.0.2.1', 6], ['::1', 4], ['::ffff:192.0.2.1', 4]] as const) {
    assert.equal(addressBits(text, family), 0n, text);
  }
});

test('canonicalAddress: IPv4 as written, IPv6 as the URL parser prints it (IPv4-mapped in hex)', () => {
  assert.equal(canonicalAddress('192.0.2.1', 4), '192.0.2.1');
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::FFFF:192.0.2.1', '::ffff:c000:201'],
    ['::ffff:c000:201', '::ffff:c000:201'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ];
  for (const [input, text] of cases) {
    assert.equal(canonicalAddress(input, 6), text, input);
    assert.equal(canonicalAddress(input, 6), new URL(`http://[${input}]/`).hostname.slice(1, -1), `${input}: as URL prints it`);
  }
  assert.throws(() => canonicalAddress('fe80::1%eth0', 6), RangeError);
  assert.throws(() => canonicalAddress('1::2::3', 6), RangeError);
  assert.throws(() => canonicalAddress('192.0.2.1', 6), RangeError);
});

test('formatPrefix: a dotted quad or RFC 5952 hex groups, then the length', () => {
  const words = new Uint32Array([0xc0000200, 0, 0, 0]);
  assert.equal(formatPrefix(4, words, 24), '192.0.2.0/24');
  assert.equal(formatPrefix(6, new Uint32Array([0x20010db8, 0x00aabb00, 0, 0]), 56), '2001:db8:aa:bb00::/56');
  assert.equal(formatPrefix(6, new Uint32Array(4), 0), '::/0');
  assert.equal(formatPrefix(6, new Uint32Array([0, 0, 0xffff, 0xc0000200]), 120), '::ffff:c000:200/120');
  assert.equal(formatPrefix(6, new Uint32Array([0x20010000, 0x00010000, 0, 0x1]), 128), '2001:0:1::1/128');
});

test('ipv4Text and ipv6Text print bytes as dig does (IPv4-mapped dotted)', () => {
  assert.equal(ipv4Text(Uint8Array.from([9, 192, 0, 2, 1]), 1), '192.0.2.1');
  const mapped = Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
  assert.equal(ipv6Text(mapped), '::ffff:192.0.2.1');
  assert.equal(ipv6Text(Uint8Array.from([7, ...mapped]), 1), '::ffff:192.0.2.1');
  assert.equal(ipv6Text(addressBytes('::ffff:0:c000:201')), '::ffff:0:c000:201', 'not mapped: ::ffff:0:0:0/96');
  assert.equal(ipv6Text(addressBytes('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
});

test('addressBytes: 4 or 16 bytes, a zone index left out, anything else a RangeError', () => {
  assert.deepEqual([...addressBytes('192.0.2.1')], [192, 0, 2, 1]);
  assert.deepEqual([...addressBytes('::ffff:192.0.2.1')], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]);
  assert.deepEqual([...addressBytes('fe80::1%eth0')], [...addressBytes('fe80::1')]);
  for (const text of ['192.0.2', '01.2.3.4', '1.2.3.4::', 'example.net', '', '1::2::3']) assert.throws(() => addressBytes(text), RangeError, text);
});

test('readAddressBlock: one reader of ADDRESS/BITS for zones (host bits a fault) and --rrl-exempt (host bits cleared, a bare address a block of one)', () => {
  const zone = { bareAddress: false, hostBits: 'reject', mappedAsIpv4: false } as const;
  const exempt = { bareAddress: true, hostBits: 'clear', mappedAsIpv4: true } as const;
  const block = readAddressBlock('2001:DB8:0:100::/56', zone);
  assert.ok(!('fault' in block));
  assert.equal(block.text, '2001:db8:0:100::/56');
  assert.equal(wordsBits(block.words, block.family), addressBits('2001:db8:0:100::', 6));
  assert.deepEqual(readAddressBlock('10.0.0.1/8', zone), { fault: 'host-bits-set' });
  const cleared = readAddressBlock('10.0.0.1/8', exempt);
  assert.ok(!('fault' in cleared) && cleared.text === '10.0.0.0/8' && cleared.words[0] === 0x0a000000);
  assert.deepEqual(readAddressBlock('192.0.2.1', zone), { fault: 'not-an-address' }, 'a zone network needs its length');
  const one = readAddressBlock('192.0.2.1', exempt);
  assert.ok(!('fault' in one) && one.text === '192.0.2.1/32');
  assert.deepEqual(readAddressBlock('10.0.0.0/33', zone), { fault: 'bad-prefix-length', widest: 32 });
  assert.deepEqual(readAddressBlock('2001:db8::/129', zone), { fault: 'bad-prefix-length', widest: 128 });
  assert.deepEqual(readAddressBlock('10.0.0.0/', exempt), { fault: 'bad-prefix-length', widest: 32 });
  assert.deepEqual(readAddressBlock('10.0.0.0/8/9', zone), { fault: 'bad-prefix-length', widest: 32 });
  assert.deepEqual(readAddressBlock('010.0.0.0/8', zone), { fault: 'not-an-address' }, 'a leading zero (octal to some tools) is refused as isIP refuses it');
  assert.deepEqual(readAddressBlock('fe80::%eth0/64', exempt), { fault: 'not-an-address' });
  const mapped = readAddressBlock('::ffff:192.0.2.0/120', zone);
  assert.ok(!('fault' in mapped) && mapped.family === 6, 'a zone keeps an IPv4-mapped network IPv6');
  assert.deepEqual(readAddressBlock('::ffff:192.0.2.0/120', exempt), { fault: 'bad-prefix-length', widest: 32 }, 'an exempt block reads it as the IPv4 client it is');
  const all = readAddressBlock('0.0.0.0/0', exempt);
  assert.ok(!('fault' in all) && all.bits === 0);
});
