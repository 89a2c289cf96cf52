/**
 * The geo rule kinds through the zone parser and selectPoolList: which kind wins for a client,
 * and the ECS scope it answers with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientLocation } from '../geo/index.js';
import { selectPoolList, type RoutingClient } from '../routing/index.js';
import { addressBits } from '../wire/index.js';
import { parseZoneFile } from '../zones/index.js';
import { GEO_RULES, geoPoolLists, type GeoRulesSource } from './index.js';

const ZONE = `zone: g.test
soa: { mname: ns1.g.test, rname: h.g.test }
pools:
  office: { members: [192.0.2.1] }
  isp: { members: [192.0.2.2] }
  cal: { members: [192.0.2.3] }
  uk: { members: [192.0.2.4] }
  eu: { members: [192.0.2.5], location: { lat: 50, lon: 8 } }
  us: { members: [192.0.2.6], location: { lat: 40, lon: -75 } }
  world: { members: [192.0.2.7] }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  www:
    geo:
      network: { 198.51.100.0/24: [office], 198.51.100.128/25: [isp] }
      asn: { AS64500: [isp] }
      subdivision: { US-CA: [cal] }
      country: { GB: [uk] }
      continent: { EU: [eu] }
      nearest: [us, eu]
      default: [world]
`;

function rules(): GeoRulesSource {
  const result = parseZoneFile('g.yaml', ZONE);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.diagnostics));
  const routing = result.zone.names.find((n) => n.name === 'www.g.test')!.routing;
  assert.equal(routing?.kind, 'geo');
  return routing.rules;
}

function client(address: string, location: Partial<ClientLocation>): RoutingClient {
  return { address, family: 4, bits: () => addressBits(address, 4), location: { locationPrefixLength: 16, asnPrefixLength: 20, ...location } };
}

const cases: Array<{ what: string; address: string; location: Partial<ClientLocation>; rule: string; ruleKey: string | null; pools: string[]; scope: number }> = [
  { what: 'the longest network wins; its prefix is the scope', address: '198.51.100.200', location: { country: 'GB' }, rule: 'network', ruleKey: '198.51.100.128/25', pools: ['isp'], scope: 25 },
  // /24 matched, and the scope widens to /25 so the answer does not cover the /25 the client is not in.
  { what: 'a shorter network is narrowed apart from a longer one', address: '198.51.100.7', location: {}, rule: 'network', ruleKey: '198.51.100.0/24', pools: ['office'], scope: 25 },
  { what: 'the AS number beats location; its database prefix is the scope', address: '203.0.113.9', location: { asn: 64500, country: 'GB' }, rule: 'asn', ruleKey: 'AS64500', pools: ['isp'], scope: 20 },
  { what: 'an unmatched AS still bounds the scope of the location answer', address: '203.0.113.9', location: { asn: 1, country: 'GB' }, rule: 'country', ruleKey: 'GB', pools: ['uk'], scope: 20 },
  { what: 'the most specific subdivision wins over the country', address: '203.0.113.9', location: { subdivisions: ['US-NV', 'US-CA'], country: 'US' }, rule: 'subdivision', ruleKey: 'US-CA', pools: ['cal'], scope: 20 },
  { what: 'continent', address: '203.0.113.9', location: { country: 'DE', continent: 'EU', asnPrefixLength: 0 }, rule: 'continent', ruleKey: 'EU', pools: ['eu'], scope: 16 },
  { what: 'nearest, with coordinates', address: '203.0.113.9', location: { continent: 'AS', coordinates: { lat: 35, lon: 139 }, asnPrefixLength: 0 }, rule: 'nearest', ruleKey: null, pools: ['us', 'eu'], scope: 16 },
  // 203.x and 198.x share their first 4 bits: a /5 is the widest subnet without the networks.
  { what: 'default, when nothing is known', address: '203.0.113.9', location: { locationPrefixLength: 0, asnPrefixLength: 0 }, rule: 'default', ruleKey: null, pools: ['world'], scope: 5 },
  // A client near the networks: the default's scope must split it off from 198.51.100.0/24.
  { what: 'any answer is narrowed apart from networks the client is not in', address: '198.51.101.1', location: { locationPrefixLength: 0, asnPrefixLength: 0 }, rule: 'default', ruleKey: null, pools: ['world'], scope: 24 },
];

for (const c of cases) {
  test(`geo rules: ${c.what}`, () => {
    const choice = selectPoolList(rules(), client(c.address, c.location));
    assert.deepEqual({ rule: choice.rule, ruleKey: choice.ruleKey, pools: [...choice.pools], scope: choice.scope }, { rule: c.rule, ruleKey: c.ruleKey, pools: c.pools, scope: c.scope });
    assert.equal(choice.nearTo, c.rule === 'nearest' ? c.location.coordinates : undefined);
  });
}

test('geo rules: every pool list a name can choose, most specific kind first', () => {
  assert.deepEqual(geoPoolLists(rules()), [['isp'], ['office'], ['isp'], ['cal'], ['uk'], ['eu'], ['us', 'eu'], ['world']]);
});

test('geo rules: the table has one kind per key, and default is required', () => {
  assert.equal(new Set(GEO_RULES.map((rule) => rule.key)).size, GEO_RULES.length);
  assert.deepEqual(GEO_RULES.filter((rule) => rule.required !== undefined).map((rule) => rule.key), ['default']);
});
