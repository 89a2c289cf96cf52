import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckSpec, TargetSnapshot } from '../health/index.js';
import { summariseFirstProbes } from './down-summary.js';

const web = { name: 'web' } as CheckSpec;

function target(address: string, status: 'up' | 'down', members: { pool: string; address?: string }[]): TargetSnapshot {
  return {
    probeKey: `${address} web`,
    address,
    check: web,
    status,
    own: status,
    verdict: null,
    probed: true,
    streak: status === 'up' ? 1 : -1,
    lastProbeAt: null,
    lastResult: status === 'up' ? 'ok' : 'fail',
    reason: status === 'up' ? null : 'connect ECONNREFUSED',
    latencyMs: 1,
    since: null,
    inFlight: false,
    members: members.map((m) => ({ zone: 'example.test', pool: m.pool, address: m.address ?? address })),
  };
}

test('every member up: one info line with the count', () => {
  const summary = summariseFirstProbes([target('127.0.1.1', 'up', [{ pool: 'london' }])], []);
  assert.equal(summary.level, 'info');
  assert.equal(summary.msg, 'first probes: all 1 checked members are up');
});

test('members down: one warning counting members per pool (a probe address shared by an IPv6 member counts both) and naming all-down names once', () => {
  const summary = summariseFirstProbes(
    [
      target('127.0.1.1', 'down', [{ pool: 'london' }, { pool: 'london', address: '2001:db8:1::1' }]),
      target('127.0.1.2', 'up', [{ pool: 'london' }]),
      target('127.0.5.1', 'down', [{ pool: 'primary' }]),
      target('127.0.5.2', 'down', [{ pool: 'standby' }]),
    ],
    [
      { zone: 'example.test', name: 'api.example.test', family: 4, pools: ['primary', 'standby'], whenAllDown: 'fail-open' },
      { zone: 'example.test', name: 'db.example.test', family: 4, pools: ['primary', 'standby'], whenAllDown: 'fail-closed' },
      { zone: 'example.test', name: 'db.example.test', family: 6, pools: ['standby'], whenAllDown: 'fail-closed' },
    ],
  );
  assert.equal(summary.level, 'warn');
  assert.deepEqual(summary.fields, { down: 4, members: 5, pools: ['london', 'primary', 'standby'], names: ['api.example.test', 'db.example.test'] });
  assert.equal(
    summary.msg,
    'first probes: 4 of 5 checked members are down, in london (2), primary (1), standby (1); every pool is down for api.example.test, ' +
      'db.example.test (fail-closed: NODATA), answered from their first pool anyway (fail-open); details in /status and at --log-level debug',
  );
});

test('a long list of pools is cut after eight', () => {
  const targets = Array.from({ length: 10 }, (_, i) => target(`127.0.9.${i}`, 'down', [{ pool: `p${i}` }]));
  assert.match(summariseFirstProbes(targets, []).msg, /p7 \(1\) and 2 more; details/);
});
