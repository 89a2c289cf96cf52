/**
 * Health-aware TTL: a routed name answers with its `ttl` while the first pool of its list
 * answers with every member up, and with its degraded TTL (`degraded_ttl`, by default the
 * smaller of `ttl` and the first pool's check interval × rise) while it is degraded: a later
 * pool answers, every pool is down (fail-open), or the first pool has members withdrawn. Static
 * answers keep their TTL. Table tests with a hand-set health view, then the real health monitor
 * on a fake clock, which shows the full TTL coming back when recovery is seen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servingState } from '../authority/index.js';
import { HealthMonitor, type MemberStatus, type HealthView } from '../health/index.js';
import type { ProbeFn } from '../health/probes/index.js';
import { ZoneCatalog } from '../zones/index.js';
import { seededRandom } from './index.js';
import { ask, compileZoneTexts, servingOf } from '../../test/support/compiled-zones.js';
import { FakeClock } from '../../test/support/fake-clock.js';

const ZONE = `
zone: ttl.test
ttl: 300
soa: { mname: ns1.ttl.test, rname: hostmaster.ttl.test, serial: 1 }
records:
  "@": { NS: [ns1.ttl.test] }
  ns1: { A: 192.0.2.53 }
  static: { ttl: 120, A: 192.0.2.1 }
  api: { ttl: 30, failover: [primary, standby] }       # default degraded TTL: min(30, 10 s × 2) = 20
  slow: { ttl: 30, failover: [slowpool, standby] }     # min(30, 60 s × 1) = 30: the full TTL
  set: { ttl: 30, degraded_ttl: 5, failover: [primary, standby] }
  plain: { ttl: 30, pool: unchecked }                  # no check: never degraded by probes
pools:
  primary: { check: api-tcp, members: [127.0.5.1, 127.0.5.3] }
  standby: { check: api-tcp, members: [127.0.5.2] }
  slowpool: { check: slow, members: [127.0.6.1] }
  unchecked: { members: [192.0.2.7] }
checks:
  api-tcp: { type: tcp, port: 8443, interval: 10s, rise: 2, fall: 1 }
  slow: { type: tcp, port: 8443, interval: 1m, rise: 1 }
`;

function ttlOf(answer: string | undefined): number {
  return Number(answer?.split(/\s+/)[1]);
}

test('the full TTL while the first pool answers with every member up; the degraded TTL otherwise, with the reason', () => {
  const cases: [string, string, string[], number, string | null][] = [
    ['every member of the first pool up', 'api', [], 30, null],
    ['one member of the first pool down', 'api', ['127.0.5.3'], 20, 'members-withdrawn'],
    ['the first pool down: the standby answers', 'api', ['127.0.5.1', '127.0.5.3'], 20, 'later-pool'],
    ['every pool down: fail-open', 'api', ['127.0.5.1', '127.0.5.3', '127.0.5.2'], 20, 'fail-open'],
    ['degraded_ttl set on the name', 'set', ['127.0.5.1', '127.0.5.3'], 5, 'later-pool'],
    ['interval × rise longer than ttl: the ttl', 'slow', ['127.0.6.1'], 30, 'later-pool'],
    ['a pool without a check', 'plain', [], 30, null],
  ];
  for (const [what, name, down, ttl, degraded] of cases) {
    const answer = ask(servingOf([ZONE], { down }), `${name}.ttl.test`, 'A');
    assert.ok(answer.answer.length > 0, what);
    assert.deepEqual([...new Set(answer.answer.map(ttlOf))], [ttl], what);
    assert.deepEqual([answer.decision?.ttl, answer.decision?.degraded], [ttl, degraded], what);
  }
});

test('static answers keep their TTL whatever health does', () => {
  const answer = ask(servingOf([ZONE], { down: ['127.0.5.1', '127.0.5.2', '127.0.5.3'] }), 'static.ttl.test', 'A');
  assert.deepEqual([answer.answer.map(ttlOf), answer.decision], [[120], null]);
});

test('a drained member is withdrawn too: the degraded TTL until the override is cleared', () => {
  const drained = new Set(['127.0.5.3']);
  const health: HealthView = { version: 1, status: (_key, address): MemberStatus => (drained.has(address) ? 'drained' : 'up') };
  const serving = servingState(new ZoneCatalog(compileZoneTexts(ZONE)), { health, geo: null, random: seededRandom(1) });
  const answer = ask(serving, 'api.ttl.test', 'A');
  assert.deepEqual([answer.answer, answer.decision?.degraded], [['api.ttl.test. 20 IN A 127.0.5.1'], 'members-withdrawn']);
  // The whole first pool drained: the standby answers (the outcome counts a drained pool as absent), degraded.
  drained.add('127.0.5.1');
  const standby = ask(servingState(new ZoneCatalog(compileZoneTexts(ZONE)), { health, geo: null, random: seededRandom(1) }), 'api.ttl.test', 'A');
  assert.deepEqual([standby.answer, standby.decision?.outcome, standby.decision?.degraded], [['api.ttl.test. 20 IN A 127.0.5.2'], 'primary', 'later-pool']);
});

test('with the real health monitor on a fake clock: degraded after fall, full TTL again once rise probes pass', async () => {
  const clock = new FakeClock();
  const failing = new Set<string>();
  const probe: ProbeFn = (target) => Promise.resolve(failing.has(target.address) ? { ok: false, latencyMs: 1, reason: 'connect ECONNREFUSED' } : { ok: true, latencyMs: 1 });
  const monitor = new HealthMonitor({ clock, tickSource: clock.ticks, probe, random: () => 0.5 });
  const [zone] = compileZoneTexts(ZONE);
  await monitor.setTargets(zone!.probeTargets);
  await monitor.start();
  try {
    const serving = servingState(new ZoneCatalog([zone!]), { health: monitor, geo: null, random: seededRandom(1) });
    const ttlNow = (): number => ttlOf(ask(serving, 'api.ttl.test', 'A').answer[0]);
    assert.equal(ttlNow(), 30);

    failing.add('127.0.5.1');
    failing.add('127.0.5.3');
    await clock.advance(10_000); // one interval: fall 1 takes both primary members down
    const failedOver = ask(serving, 'api.ttl.test', 'A');
    assert.deepEqual([failedOver.answer, failedOver.decision?.degraded], [['api.ttl.test. 20 IN A 127.0.5.2'], 'later-pool']);

    failing.clear();
    await clock.advance(10_000); // one good probe each: rise 2 is not reached yet
    assert.equal(ttlNow(), 20, 'still degraded after one good probe');
    await clock.advance(10_000); // the second: the primary is back, 20 s (the degraded TTL) after recovery began
    const recovered = ask(serving, 'api.ttl.test', 'A');
    assert.deepEqual([[...new Set(recovered.answer.map(ttlOf))], recovered.decision?.pool, recovered.decision?.degraded], [[30], 'primary', null]);
  } finally {
    await monitor.stop();
  }
});
