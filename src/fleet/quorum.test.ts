import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, freshFor, isFresh, upNeeded } from './quorum.js';

const views = (...statuses: ('up' | 'down')[]) => statuses.map((status) => ({ status }));

test('majority: more than half of the fresh views; with two views a tie is down', () => {
  assert.equal(decide('majority', views('up', 'up', 'down')).status, 'up');
  assert.equal(decide('majority', views('up', 'down', 'down')).status, 'down');
  assert.equal(decide('majority', views('up', 'down')).status, 'down');
  assert.equal(decide('majority', views('down')).status, 'down');
  assert.equal(decide('majority', views('up', 'up', 'down')).reason, 'quorum majority: 2 of 3 fresh views up (2 needed)');
});

test('any, all and N', () => {
  assert.equal(decide('any', views('down', 'down', 'up')).status, 'up');
  assert.equal(decide('any', views('down', 'down')).status, 'down');
  assert.equal(decide('all', views('up', 'up', 'down')).status, 'down');
  assert.equal(decide('all', views('up', 'up', 'up')).status, 'up');
  assert.equal(decide(2, views('up', 'down', 'down')).status, 'down');
  assert.equal(decide(2, views('up', 'up', 'down')).status, 'up');
  // N above the fresh views there are: all of them, so dead instances cannot take a member down.
  assert.equal(upNeeded(3, 2), 2);
  assert.equal(decide(3, views('up', 'up')).status, 'up');
});

test('a view is fresh for three intervals plus the timeout', () => {
  const view = { instance: 'a', status: 'up' as const, at: 10_000, reason: null, intervalMs: 1000, timeoutMs: 500 };
  assert.equal(freshFor(view), 3500);
  assert.equal(isFresh(view, 13_499), true);
  assert.equal(isFresh(view, 13_500), false);
});
