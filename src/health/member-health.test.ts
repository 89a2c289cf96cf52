import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INITIAL_MEMBER_HEALTH, nextMemberHealth } from './member-health.js';
import type { MemberHealth } from './member-health.js';

// Each case: thresholds, a string of probe results (+ ok, - fail), and the up/down state after each.
const cases: ReadonlyArray<{ name: string; rise: number; fall: number; results: string; states: string }> = [
  { name: 'first ok keeps up', rise: 2, fall: 3, results: '+', states: 'U' },
  { name: 'first fail goes down at once', rise: 2, fall: 3, results: '-', states: 'D' },
  { name: 'fall=3 needs three failures', rise: 2, fall: 3, results: '+--+---', states: 'UUUUUUD' },
  { name: 'rise=2 needs two successes', rise: 2, fall: 3, results: '-+-++', states: 'DDDDU' },
  { name: 'rise=1 fall=1 follows every result', rise: 1, fall: 1, results: '+-+-', states: 'UDUD' },
  { name: 'flapping never reaches fall', rise: 2, fall: 2, results: '+-+-+-', states: 'UUUUUU' },
  { name: 'down, then back after rise, then down after fall', rise: 2, fall: 2, results: '-++--+', states: 'DDUUDD' },
  { name: 'zero thresholds act as one', rise: 0, fall: 0, results: '+-+', states: 'UDU' },
];

for (const c of cases) {
  test(`nextMemberHealth: ${c.name}`, () => {
    let state: MemberHealth = INITIAL_MEMBER_HEALTH;
    assert.equal(state.up, true, 'unprobed counts as up');
    const seen: string[] = [];
    for (const r of c.results) {
      state = nextMemberHealth(state, { ok: r === '+' }, c);
      seen.push(state.up ? 'U' : 'D');
    }
    assert.equal(seen.join(''), c.states);
  });
}

test('nextMemberHealth: streak counts same-kind results and resets on a change', () => {
  let state: MemberHealth = INITIAL_MEMBER_HEALTH;
  const streaks: number[] = [];
  for (const r of '++----+') {
    state = nextMemberHealth(state, { ok: r === '+' }, { rise: 3, fall: 3 });
    streaks.push(state.streak);
  }
  assert.deepEqual(streaks, [1, 2, -1, -2, -3, -4, 1]);
  assert.equal(state.probed, true);
  assert.equal(Object.isFrozen(INITIAL_MEMBER_HEALTH), true);
});
