/**
 * Answers from wildcards (RFC 4592) that Knot cannot be asked about, or that need a closer look
 * than the differential test gives: routed wildcards (geo, failover, pool), the owner written out
 * after a CNAME (into a static and a routed wildcard), the question's case kept, and `explain`
 * saying which wildcard answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, servingOf } from '../../test/support/compiled-zones.js';
import { explainAnswer, formatExplainReport } from '../explain/index.js';

const ZONE = `zone: wild.test
soa: { mname: ns1.wild.test, rname: hostmaster.wild.test, serial: 1, minimum: 60 }
records:
  "@": { NS: [ns1.wild.test] }
  ns1: { A: 192.0.2.53 }
  "*.static": { A: 192.0.2.1, TXT: hello }
  "*.routed": { ttl: 30, failover: [primary, standby] }
  "*.geo": { geo: { country: { GB: [primary] }, default: [standby] } }
  to-static: { CNAME: x.static.wild.test. }
  to-routed: { CNAME: y.routed.wild.test. }
pools:
  primary: { members: [192.0.2.10, "2001:db8::10"] }
  standby: { members: [192.0.2.20] }
`;

test('a routed wildcard answers from its pools, failing over like any routed name', () => {
  const up = servingOf([ZONE]);
  const res = ask(up, 'Any.Routed.wild.test', 'A');
  assert.deepEqual([res.rcode, res.aa, res.answer], ['NOERROR', true, ['Any.Routed.wild.test. 30 IN A 192.0.2.10']]);
  assert.equal(res.decision?.rule, 'failover');
  const down = servingOf([ZONE], { down: ['192.0.2.10', '2001:db8::10'] });
  assert.deepEqual(ask(down, 'a.b.routed.wild.test', 'A').answer, ['a.b.routed.wild.test. 30 IN A 192.0.2.20']);
  assert.deepEqual(ask(up, 'z.routed.wild.test', 'AAAA').answer, ['z.routed.wild.test. 30 IN AAAA 2001:db8::10']);
  // A routed wildcard holds addresses only: other types are NODATA with the SOA.
  const txt = ask(up, 'z.routed.wild.test', 'TXT');
  assert.deepEqual([txt.rcode, txt.answer.length, txt.authority.length], ['NOERROR', 0, 1]);
});

test('a geo wildcard chooses by the client like a geo name', () => {
  const serving = servingOf([ZONE]);
  const res = ask(serving, 'x.geo.wild.test', 'A', { address: '203.0.113.9', family: 4 });
  assert.deepEqual(res.answer, ['x.geo.wild.test. 300 IN A 192.0.2.20']);
  assert.equal(res.decision?.rule, 'default');
});

test('after a CNAME, the wildcard\'s records carry the CNAME target as owner, static or routed', () => {
  const serving = servingOf([ZONE]);
  assert.deepEqual(ask(serving, 'to-static.wild.test', 'A').answer, ['to-static.wild.test. 300 IN CNAME x.static.wild.test.', 'x.static.wild.test. 300 IN A 192.0.2.1']);
  assert.deepEqual(ask(serving, 'to-routed.wild.test', 'A').answer, ['to-routed.wild.test. 300 IN CNAME y.routed.wild.test.', 'y.routed.wild.test. 30 IN A 192.0.2.10']);
  // The wildcard itself stays as compiled: a second answer to another name is not affected.
  assert.deepEqual(ask(serving, 'other.static.wild.test', 'TXT').answer, ['other.static.wild.test. 300 IN TXT "hello"']);
});

test('explain says which wildcard answered each name of the answer', () => {
  const serving = servingOf([ZONE]);
  const context = { serving, snapshot: { targets: [] }, geo: null } as unknown as Parameters<typeof explainAnswer>[1];
  const report = explainAnswer({ name: 'to-routed.wild.test', from: '192.0.2.99' }, context);
  assert.deepEqual(report.wildcards, [{ name: 'y.routed.wild.test', wildcard: '*.routed.wild.test' }]);
  assert.match(formatExplainReport(report), /^wildcard: y\.routed\.wild\.test is answered from \*\.routed\.wild\.test/m);
  assert.deepEqual(explainAnswer({ name: 'ns1.wild.test', from: '192.0.2.99' }, context).wildcards, []);
});
