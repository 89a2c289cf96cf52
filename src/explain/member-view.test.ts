import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthSnapshot, TargetSnapshot } from '../health/index.js';
import { compileZoneTexts, healthWithDown } from '../../test/support/compiled-zones.js';
import { MemberViews } from './member-view.js';

const ZONE = `
zone: mv.test
soa: { mname: ns1.mv.test, rname: hostmaster.mv.test, serial: 1 }
records:
  "@": { NS: [ns1.mv.test] }
  ns1: { A: 192.0.2.53 }
  www: { pool: web }
  plain: { pool: unchecked }
checks:
  http: { type: tcp, port: 80 }
pools:
  web: { check: http, members: [127.0.0.1, 127.0.0.2, { address: 127.0.0.3, enabled: false }] }
  unchecked: { members: [192.0.2.9] }
`;

function target(probeKey: string, lastResult: 'ok' | 'fail'): TargetSnapshot {
  return { probeKey, lastResult, address: probeKey, reason: lastResult === 'ok' ? null : 'timeout after 2000 ms' } as TargetSnapshot;
}

test('each member as the answers count it, with its probe target: down, up, disabled, and no target without a check', () => {
  const [zone] = compileZoneTexts(ZONE);
  const pool = (name: string) => zone!.pools.find((p) => p.name === name)!;
  const snapshot: HealthSnapshot = { version: 1, targets: [target('127.0.0.1', 'fail'), target('127.0.0.2', 'ok')], overrides: [] };
  const views = new MemberViews(healthWithDown(['127.0.0.1']), snapshot);
  const web = views.of(pool('web'));
  assert.deepEqual(
    web.map((v) => [v.member.address, v.status, v.target?.lastResult ?? null]),
    [
      ['127.0.0.1', 'down', 'fail'],
      ['127.0.0.2', 'up', 'ok'],
      ['127.0.0.3', 'disabled', null],
    ],
  );
  assert.deepEqual(
    views.of(pool('unchecked')).map((v) => [v.member.address, v.status, v.target]),
    [['192.0.2.9', 'up', undefined]],
  );
});
