import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseClientAddress } from './normalise-client-address.js';

test('IPv4-mapped IPv6 becomes IPv4', () => {
  assert.deepEqual(normaliseClientAddress('::ffff:81.2.69.142'), { address: '81.2.69.142', family: 4 });
  assert.deepEqual(normaliseClientAddress('::FFFF:81.2.69.142'), { address: '81.2.69.142', family: 4 });
  assert.deepEqual(normaliseClientAddress('0:0:0:0:0:ffff:81.2.69.142'), { address: '81.2.69.142', family: 4 });
  assert.deepEqual(normaliseClientAddress('::ffff:5102:458e'), { address: '81.2.69.142', family: 4 });
});

test('plain addresses keep their family', () => {
  assert.deepEqual(normaliseClientAddress('81.2.69.142'), { address: '81.2.69.142', family: 4 });
  assert.deepEqual(normaliseClientAddress('2a02:db8:1::1'), { address: '2a02:db8:1::1', family: 6 });
  // Not IPv4-mapped: IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d).
  assert.deepEqual(normaliseClientAddress('::1.2.3.4'), { address: '::1.2.3.4', family: 6 });
  assert.deepEqual(normaliseClientAddress('::ffff:0:1.2.3.4'), { address: '::ffff:0:1.2.3.4', family: 6 });
  assert.deepEqual(normaliseClientAddress('::1'), { address: '::1', family: 6 });
});

test('non-addresses are rejected', () => {
  for (const bad of ['', '1.2.3', 'example.com', '::ffff:1.2.3', '1.2.3.4.5']) {
    assert.throws(() => normaliseClientAddress(bad), TypeError, bad);
  }
});
