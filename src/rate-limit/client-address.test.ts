/** Client addresses read from socket text into words, masks, and `--rrl-exempt` blocks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockContains, formatPrefix, maskAddress, parseAddressBlock, readAddress } from './client-address.js';

function read(text: string): [number, number[]] {
  const words = new Uint32Array(4);
  const family = readAddress(text, words);
  return [family, [...words]];
}

test('addresses as sockets report them become four words (IPv4 in the first)', () => {
  assert.deepEqual(read('192.0.2.1'), [4, [0xc0000201, 0, 0, 0]]);
  assert.deepEqual(read('::ffff:192.0.2.1'), [4, [0xc0000201, 0, 0, 0]], 'IPv4-mapped');
  assert.deepEqual(read('2001:db8::1'), [6, [0x20010db8, 0, 0, 1]]);
  assert.deepEqual(read('::1'), [6, [0, 0, 0, 1]]);
  assert.deepEqual(read('::'), [6, [0, 0, 0, 0]]);
  assert.deepEqual(read('fe80::1%eth0'), [6, [0xfe800000, 0, 0, 1]]);
  assert.deepEqual(read('2001:DB8:1:2:3:4:5:6'), [6, [0x20010db8, 0x00010002, 0x00030004, 0x00050006]]);
  assert.deepEqual(read('64:ff9b::192.0.2.1'), [6, [0x0064ff9b, 0, 0, 0xc0000201]]);
  assert.deepEqual(read('1::'), [6, [0x00010000, 0, 0, 0]]);
});

test('text that is no address reads as family 0', () => {
  for (const text of ['', 'localhost', '1.2.3', '1.2.3.256', '1.2.3.4.5', '1..2.3', '2001:db8::1::2', '12345::', ':1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '1:']) {
    assert.equal(read(text)[0], 0, text);
  }
});

test('masking keeps the prefix bits and formatPrefix writes the block', () => {
  const words = new Uint32Array(4);
  readAddress('192.0.2.77', words);
  maskAddress(words, 24);
  assert.equal(formatPrefix(4, words, 24), '192.0.2.0/24');
  readAddress('2001:db8:aa:bbcc:1:2:3:4', words);
  maskAddress(words, 56);
  assert.equal(formatPrefix(6, words, 56), '2001:db8:aa:bb00::/56');
  readAddress('2001:db8:aa:bbcc:1:2:3:4', words);
  maskAddress(words, 0);
  assert.equal(formatPrefix(6, words, 0), '::/0');
});

test('exempt blocks: ADDRESS/BITS or a bare address; host bits cleared; clear errors', () => {
  const block = parseAddressBlock('192.0.2.77/24');
  assert.equal(block.text, '192.0.2.0/24');
  const words = new Uint32Array(4);
  readAddress('192.0.2.200', words);
  assert.ok(blockContains(block, 4, words));
  readAddress('192.0.3.1', words);
  assert.ok(!blockContains(block, 4, words));
  const host = parseAddressBlock('2001:db8::53');
  assert.equal(host.text, '2001:db8::53/128');
  readAddress('2001:db8::53', words);
  assert.ok(blockContains(host, 6, words));
  assert.ok(!blockContains(block, 6, words), 'another family');
  assert.ok(blockContains(parseAddressBlock('0.0.0.0/0'), 4, new Uint32Array([0xffffffff, 0, 0, 0])));
  assert.throws(() => parseAddressBlock('192.0.2.0/33'), /prefix length must be a whole number from 0 to 32/);
  assert.throws(() => parseAddressBlock('192.0.2.0/'), /prefix length/);
  assert.throws(() => parseAddressBlock('example.net/24'), /not an address block/);
});
