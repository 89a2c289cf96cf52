import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentChanges, type RecentChange } from './recent-changes.js';

function change(n: number): RecentChange {
  return { at: `2026-12-03T06:00:${String(n).padStart(2, '0')}.000Z`, kind: 'probe', address: `127.0.0.${n}`, state: 'down', reason: 'HTTP 503', check: 'web', initial: false, members: [] };
}

test('keeps the last `capacity` changes, oldest first, however many came', () => {
  const ring = new RecentChanges(3);
  assert.deepEqual(ring.list(), []);
  ring.add(change(1));
  ring.add(change(2));
  assert.deepEqual(ring.list().map((c) => c.address), ['127.0.0.1', '127.0.0.2']);
  for (let n = 3; n <= 7; n++) ring.add(change(n));
  assert.deepEqual(ring.list().map((c) => c.address), ['127.0.0.5', '127.0.0.6', '127.0.0.7']);
});
