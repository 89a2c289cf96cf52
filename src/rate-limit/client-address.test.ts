/** Client addresses masked to a prefix, and `--rrl-exempt` blocks (reading address text: wire's tests). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrefix, readAddress } from '../wire/index.js';
import { blockContains, maskAddress, parseAddressBlock } from './client-address.js';

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
