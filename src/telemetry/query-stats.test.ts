import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD_TYPES } from '../records/index.js';
import { RRType } from '../wire/index.js';
import { COUNTED_TYPES, QueryStats, RCODE_SLOTS } from './query-stats.js';

test('every served record type has one type label of its own, ANY one too, the rest count as other', () => {
  assert.equal(new Set(COUNTED_TYPES).size, COUNTED_TYPES.length, 'no label twice');
  for (const type of RECORD_TYPES) assert.ok(COUNTED_TYPES.includes(type.name), type.name);
  const stats = new QueryStats();
  stats.count('example.test', RRType.PTR, 0);
  stats.count('example.test', RRType.ANY, 0);
  stats.count('example.test', RRType.DNSKEY, 0);
  const counts = stats.byZone.get('example.test')!;
  const at = (label: string): number => counts[COUNTED_TYPES.indexOf(label) * RCODE_SLOTS]!;
  assert.deepEqual([at('PTR'), at('ANY'), at('other')], [1, 1, 1]);
});
