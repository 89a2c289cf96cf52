/**
 * Pools of names (CNAME pools) through answerQuery, with a hand-set health view, a seeded random
 * source and a fake geo locator: which client gets addresses and which the CNAME, for every
 * type; the choice by weight among healthy names; failover and fail-open across pools of names;
 * in-zone targets chased; the ECS scope carried by every answer that depends on the client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientLocation, GeoLocator } from '../geo/index.js';
import { isPoolListDown, seededRandom } from './index.js';
import { ask, compileZoneTexts, healthWithDown, servingOf } from '../../test/support/compiled-zones.js';

const ZONE = `
zone: cdn.test
soa: { mname: ns1.cdn.test, rname: hostmaster.cdn.test, serial: 1 }
records:
  "@": { NS: [ns1.cdn.test] }
  ns1: { A: 192.0.2.53 }
  www:                      # GB: our own servers, then the CDN; everyone else: the CDN, then the backup
    ttl: 60
    geo:
      country: { GB: [own, cdn] }
      default: [cdn, backup]
  api: { ttl: 30, failover: [cdn, backup] }
  closed: { ttl: 30, failover: [cdn], when_all_down: fail-closed }
  alias: { CNAME: www }
  edge: { A: 192.0.2.80, AAAA: "2001:db8::80" }
pools:
  own: { check: web, members: [192.0.2.10, 192.0.2.11, "2001:db8::10"] }
  cdn:
    check: web
    members:
      - { cname: eu.cdn.example.net., probe: 127.0.0.1, weight: 3 }
      - { cname: us.cdn.example.net., probe: 127.0.0.2, weight: 1 }
  backup: { members: [{ cname: edge }] }
checks:
  web: { type: http, port: 8080, interval: 5s, rise: 2 }
`;

const GB: ClientLocation = { country: 'GB', continent: 'EU', locationPrefixLength: 18, asnPrefixLength: 0 };
const FR: ClientLocation = { country: 'FR', continent: 'EU', locationPrefixLength: 20, asnPrefixLength: 0 };
const locator: GeoLocator = { locate: (address) => (address === '81.2.69.1' ? GB : address === '90.0.0.1' ? FR : { locationPrefixLength: 0, asnPrefixLength: 0 }) };
const fromGB = { address: '81.2.69.1', family: 4 as const };
const fromFR = { address: '90.0.0.1', family: 4 as const };

function serving(down: string[] = []) {
  return servingOf([ZONE], { geo: locator, down, random: seededRandom(7) });
}

test('a geo name: GB gets our addresses for A and AAAA, NODATA for other types; others get the CDN CNAME for every type', () => {
  const s = serving();
  const gbA = ask(s, 'www.cdn.test', 'A', fromGB);
  assert.deepEqual([gbA.answer.sort(), gbA.scope, gbA.decision?.pool], [['www.cdn.test. 60 IN A 192.0.2.10', 'www.cdn.test. 60 IN A 192.0.2.11'], 18, 'own']);
  assert.deepEqual(ask(s, 'www.cdn.test', 'AAAA', fromGB).answer, ['www.cdn.test. 60 IN AAAA 2001:db8::10']);
  for (const type of ['TXT', 'CNAME', 'MX']) {
    const nodata = ask(s, 'www.cdn.test', type, fromGB);
    assert.deepEqual([nodata.rcode, nodata.answer, nodata.authority.length, nodata.scope], ['NOERROR', [], 1, 18], `${type} from GB: NODATA, scoped`);
  }
  for (const type of ['A', 'AAAA', 'TXT', 'MX', 'CNAME', 'ANY']) {
    const fr = ask(s, 'www.cdn.test', type, fromFR);
    assert.equal(fr.rcode, 'NOERROR', type);
    assert.equal(fr.answer.length, 1, `${type}: one CNAME and nothing after it (the target is outside the zone)`);
    assert.match(fr.answer[0]!, /^www\.cdn\.test\. 60 IN CNAME (eu|us)\.cdn\.example\.net\.$/, type);
    assert.deepEqual([fr.scope, fr.aa, fr.decision?.pool, fr.decision?.rule], [20, true, 'cdn', 'default'], type);
    assert.equal(fr.decision?.names, true, 'the decision says a pool of names answered');
  }
});

test('one CNAME per answer, drawn by weight among the healthy names', () => {
  const s = serving();
  const counts = new Map<string, number>();
  for (let i = 0; i < 400; i++) {
    const target = ask(s, 'api.cdn.test', 'A').answer[0]!.split(' ')[4]!;
    counts.set(target, (counts.get(target) ?? 0) + 1);
  }
  const eu = counts.get('eu.cdn.example.net.') ?? 0;
  // weight 3 against 1: about 300 of 400 (seeded, so the figure is fixed; the bounds say what it means)
  assert.ok(eu > 260 && eu < 340, `eu drawn ${eu} times of 400`);
  assert.equal(eu + (counts.get('us.cdn.example.net.') ?? 0), 400);
  // A name whose probe address is down is never drawn.
  const oneDown = serving(['127.0.0.1']);
  for (let i = 0; i < 50; i++) assert.deepEqual(ask(oneDown, 'api.cdn.test', 'A').answer, ['api.cdn.test. 10 IN CNAME us.cdn.example.net.']);
});

test('failover across pools of names: the next pool answers, and an in-zone target is chased like any CNAME', () => {
  const s = serving(['127.0.0.1', '127.0.0.2']);
  const a = ask(s, 'api.cdn.test', 'A');
  assert.deepEqual(a.answer, ['api.cdn.test. 10 IN CNAME edge.cdn.test.', 'edge.cdn.test. 300 IN A 192.0.2.80']);
  assert.deepEqual([a.decision?.outcome, a.decision?.pool], ['failover', 'backup']);
  assert.deepEqual(ask(s, 'api.cdn.test', 'AAAA').answer, ['api.cdn.test. 10 IN CNAME edge.cdn.test.', 'edge.cdn.test. 300 IN AAAA 2001:db8::80']);
  // GB with its own servers down: the next pool of its list, the CDN, answers (addresses → names).
  const gbDown = serving(['192.0.2.10', '192.0.2.11', '2001:db8::10']);
  const gb = ask(gbDown, 'www.cdn.test', 'TXT', fromGB);
  assert.match(gb.answer[0] ?? '', /^www\.cdn\.test\. 10 IN CNAME (eu|us)\.cdn\.example\.net\.$/, 'own down: GB fails over to the CDN, for every type');
  assert.deepEqual([gb.decision?.outcome, gb.scope], ['failover', 18]);
});

test('every pool down: fail-open answers a name of the first pool; fail-closed answers NODATA', () => {
  const s = servingOf([ZONE.replace('backup: { members: [{ cname: edge }] }', 'backup: { check: web, members: [{ cname: edge, probe: 127.0.0.3 }] }')], {
    down: ['127.0.0.1', '127.0.0.2', '127.0.0.3'],
    random: seededRandom(3),
  });
  const open = ask(s, 'api.cdn.test', 'A');
  assert.match(open.answer[0] ?? '', /^api\.cdn\.test\. 10 IN CNAME (eu|us)\.cdn\.example\.net\.$/);
  assert.deepEqual([open.decision?.outcome, open.decision?.pool], ['fail-open', 'cdn']);
  const closed = ask(s, 'closed.cdn.test', 'A');
  assert.deepEqual([closed.rcode, closed.answer, closed.decision?.outcome], ['NOERROR', [], 'fail-closed']);
});

test('a static CNAME to a name answered from a pool of names: both CNAMEs, owners written out', () => {
  const s = serving();
  const answer = ask(s, 'alias.cdn.test', 'A', fromFR);
  assert.equal(answer.answer[0], 'alias.cdn.test. 300 IN CNAME www.cdn.test.');
  assert.match(answer.answer[1] ?? '', /^www\.cdn\.test\. 60 IN CNAME (eu|us)\.cdn\.example\.net\.$/);
  assert.deepEqual([answer.answer.length, answer.scope, answer.decision?.pool], [2, 20, 'cdn']);
  const gb = ask(s, 'alias.cdn.test', 'A', fromGB);
  assert.deepEqual([gb.answer.length, gb.answer[0], gb.decision?.pool], [3, 'alias.cdn.test. 300 IN CNAME www.cdn.test.', 'own']);
});

test('the all-down watch sees a list with names as routing does: down only when no member of any family or name is up', () => {
  const [zone] = compileZoneTexts(ZONE);
  const gbList = zone!.routedLists.find((list) => list.name === 'www.cdn.test' && list.poolNames.join() === 'own,cdn')!;
  // own has IPv4 members up; AAAA asks see the list as up too, since routing answers own's (none) for AAAA then.
  assert.equal(isPoolListDown(gbList.pools, 6, healthWithDown(['2001:db8::10', '127.0.0.1', '127.0.0.2'])), false);
  assert.equal(isPoolListDown(gbList.pools, 6, healthWithDown(['192.0.2.10', '192.0.2.11', '2001:db8::10', '127.0.0.1', '127.0.0.2'])), true);
  assert.equal(isPoolListDown(gbList.pools, 4, healthWithDown(['192.0.2.10', '192.0.2.11', '2001:db8::10', '127.0.0.1'])), false, 'a name is up');
});
