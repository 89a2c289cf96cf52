/**
 * addressBits: the bits network rules compare, for every way an address can be written, and
 * never an exception for what a socket or a bad value hands it (it runs on the query path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressBits } from './addresses.js';

const cases: [text: string, family: 4 | 6, bits: bigint][] = [
  ['192.0.2.1', 4, 0xc0000201n],
  ['0.0.0.0', 4, 0n],
  ['255.255.255.255', 4, 0xffffffffn],
  ['2001:db8::1', 6, 0x20010db8000000000000000000000001n],
  ['2001:DB8:0:0:0:0:0:1', 6, 0x20010db8000000000000000000000001n],
  ['::', 6, 0n],
  ['::1', 6, 1n],
  ['fe80::', 6, 0xfe800000000000000000000000000000n],
  ['::ffff:192.0.2.1', 6, 0xffffc0000201n],
  ['1:2:3:4:5:6:7:8', 6, 0x00010002000300040005000600070008n],
];
for (const [text, family, bits] of cases) {
  test(`addressBits: ${text}`, () => assert.equal(addressBits(text, family), bits));
}

test('addressBits ignores a zone index (fe80::1%eth0, as a socket reports a link-local peer)', () => {
  assert.equal(addressBits('fe80::1%eth0', 6), addressBits('fe80::1', 6));
  assert.equal(addressBits('fe80::1%2', 6), 0xfe800000000000000000000000000001n);
});

test('addressBits never throws: text that is not an address reads as 0', () => {
  for (const [text, family] of [['', 4], ['1.2.3', 4], ['1.2.3.256', 4], ['a.b.c.d', 4], ['', 6], [':::', 6], ['1::2::3', 6], ['12345::', 6], ['1:2:3:4:5:6:7:8:9', 6], ['::1.2.3', 6], ['%', 6], ['g::1', 6]] as const) {
    assert.equal(addressBits(text, family), 0n, text);
  }
});
