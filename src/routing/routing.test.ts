/**
 * The routing maths as table tests: which pool list a client gets and the ECS scope that goes
 * with it (selectPoolList), the weighted draw with a seeded random source (weightedPick), and
 * the failover outcomes of a routed name (through answerQuery, with a hand-set health view).
 * The e2e geo tests (test/e2e/geo-*.test.ts) prove the same through real databases and sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientLocation } from '../geo/index.js';
import { addressBits } from '../wire/index.js';
import type { GeoRulesSource } from '../zones/index.js';
import { seededRandom, selectPoolList, weightedPick, type RandomSource, type RoutingClient } from './index.js';
import { ask, servingOf, zoneSource } from '../../test/support/compiled-zones.js';

// ---- selectPoolList: rule order and ECS scope ----------------------------------------------------

const GEO_ZONE = `
zone: geo.test
soa: { mname: ns1.geo.test, rname: hostmaster.geo.test, serial: 1 }
records:
  "@": { NS: [ns1.geo.test] }
  ns1: { A: 192.0.2.53 }
  www:
    geo:
      network: { "198.51.100.0/24": [office], "198.51.100.64/26": [lab], "2001:db8:5::/48": [office] }
      asn: { 64500: [peering] }
      subdivision: { US-CA: [west] }
      country: { GB: [london, frankfurt], US: [east] }
      continent: { EU: [frankfurt, london] }
      default: [east, frankfurt]
  near:
    geo:
      nearest: [london, tokyo]
      default: [east]
pools:
  office: { members: [192.0.2.10] }
  lab: { members: [192.0.2.11] }
  peering: { members: [192.0.2.12] }
  west: { members: [192.0.2.13] }
  east: { members: [192.0.2.14] }
  london: { members: [192.0.2.15], location: { lat: 51.5, lon: -0.1 } }
  frankfurt: { members: [192.0.2.16], location: { lat: 50.1, lon: 8.7 } }
  tokyo: { members: [192.0.2.17], location: { lat: 35.7, lon: 139.7 } }
`;

function rulesOf(name: string): GeoRulesSource {
  const source = zoneSource(GEO_ZONE).names.find((n) => n.name === `${name}.geo.test`);
  assert.ok(source?.routing?.kind === 'geo', `${name} is a geo name`);
  return source.routing.rules;
}

function client(address: string, location: Partial<ClientLocation> = {}): RoutingClient {
  const family = address.includes(':') ? 6 : 4;
  return { address, family, bits: () => addressBits(address, family), location: { locationPrefixLength: 0, asnPrefixLength: 0, ...location } };
}

const www = rulesOf('www');

test('selectPoolList: the most specific rule wins, in the order network, asn, subdivision, country, continent, default', () => {
  const cases: [string, RoutingClient, string, string | null, readonly string[]][] = [
    ['network beats everything', client('198.51.100.7', { asn: 64500, country: 'GB', locationPrefixLength: 16, asnPrefixLength: 16 }), 'network', '198.51.100.0/24', ['office']],
    ['the longer of two nested networks', client('198.51.100.70'), 'network', '198.51.100.64/26', ['lab']],
    ['an IPv6 network', client('2001:db8:5:1::9'), 'network', '2001:db8:5::/48', ['office']],
    ['asn beats location', client('192.0.2.1', { asn: 64500, country: 'GB', continent: 'EU' }), 'asn', 'AS64500', ['peering']],
    ['subdivision beats country', client('192.0.2.1', { country: 'US', subdivisions: ['US-CA'] }), 'subdivision', 'US-CA', ['west']],
    ['country', client('192.0.2.1', { country: 'GB', continent: 'EU' }), 'country', 'GB', ['london', 'frankfurt']],
    ['continent when the country has no rule', client('192.0.2.1', { country: 'FR', continent: 'EU' }), 'continent', 'EU', ['frankfurt', 'london']],
    ['default for an unknown location', client('192.0.2.1'), 'default', null, ['east', 'frankfurt']],
    ['an unknown ASN falls through to location', client('192.0.2.1', { asn: 64999, country: 'US' }), 'country', 'US', ['east']],
  ];
  for (const [what, who, rule, ruleKey, pools] of cases) {
    const choice = selectPoolList(www, who);
    assert.deepEqual([choice.rule, choice.ruleKey, choice.pools], [rule, ruleKey, pools], what);
  }
});

test('selectPoolList: the scope is the width of the data that decided', () => {
  const cases: [string, RoutingClient, number][] = [
    ['the nested /26 rule', client('198.51.100.70'), 26],
    ['the /48 IPv6 rule', client('2001:db8:5::1'), 48],
    ['the ASN database network', client('192.0.2.1', { asn: 64500, asnPrefixLength: 19, locationPrefixLength: 22 }), 19],
    ['a country from a /22 location network (the ASN data was consulted too)', client('192.0.2.1', { country: 'GB', asnPrefixLength: 12, locationPrefixLength: 22 }), 22],
    ['an unknown location still answers for the networks the databases looked at', client('192.0.2.1', { asnPrefixLength: 8, locationPrefixLength: 10 }), 10],
  ];
  for (const [what, who, scope] of cases) assert.equal(selectPoolList(www, who).scope, scope, what);
});

test('selectPoolList: a scope never covers a more specific network rule the client is not in', () => {
  // The /24 holds the /26 at .64, so no /24 answer is safe: .7 gets /26 (198.51.100.0/26 stops
  // short of .64), .130 gets /25 (198.51.100.128/25 lies beyond it); both keep the /24's list.
  for (const [address, scope] of [['198.51.100.7', 26], ['198.51.100.130', 25]] as const) {
    const office = selectPoolList(www, client(address));
    assert.deepEqual([office.ruleKey, office.scope], ['198.51.100.0/24', scope], address);
  }
  // A country answer from a /16 location network that holds the /24 rule is narrowed to /24.
  const wide = selectPoolList(www, client('198.51.101.1', { country: 'GB', locationPrefixLength: 16 }));
  assert.deepEqual([wide.rule, wide.scope], ['country', 24]);
  // Clients far from every network rule keep the database's width.
  assert.equal(selectPoolList(www, client('203.0.113.1', { country: 'GB', locationPrefixLength: 16 })).scope, 16);
});

test('selectPoolList: nearest needs coordinates; without them the default list answers', () => {
  const near = rulesOf('near');
  const located = selectPoolList(near, client('192.0.2.1', { country: 'JP', coordinates: { lat: 35, lon: 135 }, locationPrefixLength: 20 }));
  assert.deepEqual([located.rule, located.pools, located.scope], ['nearest', ['london', 'tokyo'], 20]);
  const unknown = selectPoolList(near, client('192.0.2.1'));
  assert.deepEqual([unknown.rule, unknown.pools], ['default', ['east']]);
});

test('a geo answer carries the scope of its rule; nearest orders the pools by distance (through answerQuery)', () => {
  const locations = new Map<string, ClientLocation>([
    ['192.0.2.1', { country: 'JP', continent: 'AS', coordinates: { lat: 35, lon: 135 }, locationPrefixLength: 20, asnPrefixLength: 0 }],
    ['192.0.2.2', { country: 'GB', continent: 'EU', coordinates: { lat: 51, lon: 0 }, locationPrefixLength: 18, asnPrefixLength: 0 }],
  ]);
  const serving = servingOf([GEO_ZONE], { geo: { locate: (address) => locations.get(address) ?? { locationPrefixLength: 0, asnPrefixLength: 0 } } });
  const tokyo = ask(serving, 'near.geo.test', 'A', { address: '192.0.2.1', family: 4 });
  assert.deepEqual([tokyo.answer, tokyo.scope, tokyo.decision?.pool], [['near.geo.test. 300 IN A 192.0.2.17'], 20, 'tokyo']);
  const london = ask(serving, 'www.geo.test', 'A', { address: '192.0.2.2', family: 4 });
  assert.deepEqual([london.answer, london.scope, london.decision?.rule], [['www.geo.test. 300 IN A 192.0.2.15'], 18, 'country']);
  // A static name does not depend on the client: scope 0.
  assert.equal(ask(serving, 'ns1.geo.test', 'A', { address: '192.0.2.2', family: 4 }).scope, 0);
});

test('with network rules the pool list is remembered per client address, and asked again when the location the address gets changes', () => {
  const locations = new Map<string, ClientLocation>([['203.0.113.9', { country: 'GB', continent: 'EU', locationPrefixLength: 24, asnPrefixLength: 0 }]]);
  const serving = servingOf([GEO_ZONE], { geo: { locate: (address) => locations.get(address) ?? { locationPrefixLength: 0, asnPrefixLength: 0 } } });
  const poolOf = (address: string): [string | null | undefined, string[]] => {
    const answer = ask(serving, 'www.geo.test', 'A', { address, family: 4 });
    return [answer.decision?.pool, answer.answer];
  };
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(poolOf('198.51.100.70'), ['lab', ['www.geo.test. 300 IN A 192.0.2.11']], `in the /26 (round ${round})`);
    assert.deepEqual(poolOf('198.51.100.5'), ['office', ['www.geo.test. 300 IN A 192.0.2.10']], `in the /24 only (round ${round})`);
    assert.deepEqual(poolOf('203.0.113.9'), ['london', ['www.geo.test. 300 IN A 192.0.2.15']], `GB (round ${round})`);
  }
  // A database swap gives the address another location object: the remembered list no longer holds.
  locations.set('203.0.113.9', { country: 'US', continent: 'NA', locationPrefixLength: 24, asnPrefixLength: 0 });
  assert.deepEqual(poolOf('203.0.113.9'), ['east', ['www.geo.test. 300 IN A 192.0.2.14']]);
});

// ---- weightedPick ------------------------------------------------------------------------------

const MEMBERS = [
  { name: 'heavy', weight: 6 },
  { name: 'medium', weight: 3 },
  { name: 'light', weight: 1 },
];

/** A random source that returns the given numbers in turn. */
function scripted(...values: number[]): RandomSource {
  let i = 0;
  return { next: () => values[i++ % values.length]! };
}

test('weightedPick: each draw falls in the item whose share of the remaining weight holds the number', () => {
  // Draw 1 over 10: [0, 0.6) heavy, [0.6, 0.9) medium, [0.9, 1) light.
  assert.deepEqual(weightedPick(MEMBERS, 1, scripted(0.59)).map((m) => m.name), ['heavy']);
  assert.deepEqual(weightedPick(MEMBERS, 1, scripted(0.6)).map((m) => m.name), ['medium']);
  assert.deepEqual(weightedPick(MEMBERS, 1, scripted(0.95)).map((m) => m.name), ['light']);
  // Without repeats: after heavy, the draw is over medium 3 + light 1.
  assert.deepEqual(weightedPick(MEMBERS, 2, scripted(0.1, 0.8)).map((m) => m.name), ['heavy', 'light']);
  assert.deepEqual(weightedPick(MEMBERS, 2, scripted(0.1, 0.7)).map((m) => m.name), ['heavy', 'medium']);
});

test('weightedPick: max_answers caps the draw; no cap is a weighted shuffle of every item; a cap above the count is the count', () => {
  const random = seededRandom(42);
  for (let i = 0; i < 50; i++) {
    assert.equal(weightedPick(MEMBERS, 2, random).length, 2);
    assert.deepEqual(weightedPick(MEMBERS, null, random).map((m) => m.name).sort(), ['heavy', 'light', 'medium']);
    assert.equal(weightedPick(MEMBERS, 10, random).length, 3);
  }
  assert.deepEqual(weightedPick([], 2, random), []);
});

test('weightedPick: with a seeded source, first places follow the weights (6:3:1 over 20,000 draws)', () => {
  const random = seededRandom(7);
  const first = new Map<string, number>();
  const draws = 20_000;
  for (let i = 0; i < draws; i++) {
    const name = weightedPick(MEMBERS, 1, random)[0]!.name;
    first.set(name, (first.get(name) ?? 0) + 1);
  }
  // Binomial standard deviation at these sizes is under 0.004; 0.02 leaves room and still fails a uniform draw.
  for (const member of MEMBERS) assert.ok(Math.abs(first.get(member.name)! / draws - member.weight / 10) < 0.02, `${member.name}: ${first.get(member.name)}`);
});

test('a pool with max_answers answers that many members, drawn by weight, and never a disabled one', () => {
  const zone = `
zone: pick.test
soa: { mname: ns1.pick.test, rname: hostmaster.pick.test, serial: 1 }
records:
  "@": { NS: [ns1.pick.test] }
  ns1: { A: 192.0.2.53 }
  app: { pool: app }
pools:
  app:
    max_answers: 2
    members:
      - { address: 192.0.2.1, weight: 8 }
      - { address: 192.0.2.2, weight: 1 }
      - { address: 192.0.2.3, weight: 1 }
      - { address: 192.0.2.4, weight: 100, enabled: false }
`;
  const serving = servingOf([zone], { random: seededRandom(3) });
  const firsts = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const answer = ask(serving, 'app.pick.test', 'A').answer.map((line) => line.split(' ')[4]!);
    assert.equal(answer.length, 2);
    assert.ok(!answer.includes('192.0.2.4'), 'a disabled member is never answered');
    assert.equal(new Set(answer).size, 2, 'no member twice');
    firsts.set(answer[0]!, (firsts.get(answer[0]!) ?? 0) + 1);
  }
  assert.ok(firsts.get('192.0.2.1')! > 1400, `the heavy member comes first most often (${[...firsts].join(' ')})`);
});

// ---- failover outcomes ---------------------------------------------------------------------------

const FAILOVER_ZONE = `
zone: fo.test
soa: { mname: ns1.fo.test, rname: hostmaster.fo.test, serial: 1 }
records:
  "@": { NS: [ns1.fo.test] }
  ns1: { A: 192.0.2.53 }
  open: { failover: [first, second] }
  closed: { failover: [first, second], when_all_down: fail-closed }
  v6only: { failover: [first, second] }
  only4: { failover: [v4] }
checks:
  web: { type: tcp, port: 80 }
pools:
  first: { check: web, members: [127.0.0.1, { address: "2001:db8::1", probe: 127.0.0.1 }] }
  second: { check: web, members: [127.0.0.2] }
  v4: { members: [192.0.2.9] }
`;

function outcome(down: string[], name: string, type = 'A'): [string, string | null | undefined, string[]] {
  const res = ask(servingOf([FAILOVER_ZONE], { down }), name, type);
  return [res.decision?.outcome ?? 'none', res.decision?.pool, res.answer.map((line) => line.split(' ')[4]!)];
}

test('failover: the first pool that is up answers (primary, then failover)', () => {
  assert.deepEqual(outcome([], 'open.fo.test'), ['primary', 'first', ['127.0.0.1']]);
  assert.deepEqual(outcome(['127.0.0.1'], 'open.fo.test'), ['failover', 'second', ['127.0.0.2']]);
});

test('every pool down: fail-open answers the first pool anyway, fail-closed answers NODATA', () => {
  const down = ['127.0.0.1', '127.0.0.2'];
  assert.deepEqual(outcome(down, 'open.fo.test'), ['fail-open', 'first', ['127.0.0.1']]);
  assert.deepEqual(outcome(down, 'closed.fo.test'), ['fail-closed', null, []]);
  const closed = ask(servingOf([FAILOVER_ZONE], { down }), 'closed.fo.test', 'A');
  assert.deepEqual([closed.rcode, closed.authority.length], ['NOERROR', 1], 'NODATA with the SOA');
});

test('a family no pool has is NODATA (no-members); a member down by its probe address is down in both families', () => {
  assert.deepEqual(outcome([], 'v6only.fo.test', 'AAAA'), ['primary', 'first', ['2001:db8::1']]);
  // The second pool has no IPv6 member: with the first down, AAAA fails open to the first.
  assert.deepEqual(outcome(['127.0.0.1'], 'v6only.fo.test', 'AAAA'), ['fail-open', 'first', ['2001:db8::1']]);
  const res = ask(servingOf([FAILOVER_ZONE]), 'only4.fo.test', 'AAAA');
  assert.deepEqual([res.rcode, res.answer, res.decision?.outcome], ['NOERROR', [], 'no-members']);
});
