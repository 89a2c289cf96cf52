import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeName, OWNER_IS_QNAME } from './names.js';
import { recordOf, recordTail, tailOf } from './pre-encoded-record.js';

test('a record tail is TYPE, CLASS IN, TTL, RDLENGTH and the RDATA', () => {
  const tail = recordTail(1, 300, Buffer.from([192, 0, 2, 1]));
  assert.deepEqual([...tail], [0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1]);
});

test('a record is an owner (a pointer to the question, or written out) before its tail, and tailOf finds the tail in both', () => {
  const tail = recordTail(16, 60, Buffer.from([2, 0x68, 0x69]));
  const pointed = recordOf(null, tail);
  assert.deepEqual(pointed.subarray(0, 2), OWNER_IS_QNAME);
  const named = recordOf(encodeName('www.example.test'), tail);
  assert.equal(named.length, encodeName('www.example.test').length + tail.length);
  assert.deepEqual(tailOf(pointed), tail);
  assert.deepEqual(tailOf(named), tail);
  assert.deepEqual(tailOf(recordOf(encodeName('.'), tail)), tail, 'the root as owner');
});
