/**
 * The Authority of a compiled zone: what lookup gives for each kind of name, that routing state
 * belongs to the serving state (two states over one catalog answer each from its own health),
 * that answering leaves the compiled zone exactly as it was built, and that a reload keeps the
 * authority of a zone it did not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { compileZoneTexts, healthWithDown, ask } from '../../test/support/compiled-zones.js';
import { seededRandom } from '../routing/index.js';
import { RRType } from '../wire/index.js';
import { ZoneCatalog } from '../zones/index.js';
import { servingState, type Lookup } from './index.js';

const ZONE = `zone: auth.test
soa: { mname: ns1.auth.test, rname: hostmaster.auth.test }
records:
  "@": { NS: [ns1.auth.test] }
  ns1: { A: 192.0.2.53 }
  static: { A: [192.0.2.1, 192.0.2.2], TXT: ["hello"] }
  alias: { CNAME: routed }
  routed: { failover: [primary, standby] }
  only6: { pool: six }
  geo: { geo: { country: { GB: [primary] }, default: [standby] } }
  a.b: { A: 192.0.2.9 }
  child: { NS: [ns.child.auth.test] }
  ns.child: { A: 192.0.2.54 }
pools:
  primary: { members: [192.0.2.10] }
  standby: { members: [192.0.2.20] }
  six: { members: ["2001:db8::6"] }
`;
const client = { address: '192.0.2.1', family: 4 as const };
const catalog = new ZoneCatalog(compileZoneTexts(ZONE));

function authorityOf(down: string[] = []) {
  return servingState(catalog, { health: healthWithDown(down), geo: null, random: seededRandom(7) }).authorities.zone('auth.test')!;
}

function kindsOf(lookup: Lookup): string {
  if (lookup.kind === 'records') return `records ${lookup.records.length}${lookup.decision ? ` ${lookup.decision.outcome} ${lookup.decision.pool}` : ''}`;
  return lookup.kind === 'cname' ? `cname → ${lookup.target}` : lookup.kind;
}

test('lookup: no name, an alias, records, an empty non-terminal, a routed name with its decision', () => {
  const zone = authorityOf();
  const at = (name: string, type: number) => kindsOf(zone.lookup(`${name}.auth.test`, type, client, false));
  assert.equal(at('nope', RRType.A), 'nxdomain');
  assert.equal(at('alias', RRType.A), 'cname → routed.auth.test');
  assert.equal(at('alias', RRType.CNAME), 'records 1');
  assert.equal(at('static', RRType.A), 'records 2');
  assert.equal(at('static', RRType.MX), 'records 0');
  assert.equal(at('b', RRType.A), 'records 0');
  assert.equal(at('routed', RRType.A), 'records 1 primary primary');
  // ANY is one RRset (RFC 8482): a routed name with no IPv4 member gives its AAAA.
  assert.equal(at('only6', RRType.ANY), 'records 1 primary six');
  assert.equal(zone.delegation('child.auth.test')?.glue.length, 1);
  assert.equal(zone.delegation('static.auth.test'), null);
});

test('routing state belongs to the serving state: two over one catalog answer from their own health', () => {
  const up = servingState(catalog, { health: healthWithDown([]), geo: null, random: seededRandom(1) });
  const down = servingState(catalog, { health: healthWithDown(['192.0.2.10']), geo: null, random: seededRandom(1) });
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(ask(up, 'routed.auth.test', 'A').answer, ['routed.auth.test. 300 IN A 192.0.2.10']);
    assert.deepEqual(ask(down, 'routed.auth.test', 'A').answer, ['routed.auth.test. 300 IN A 192.0.2.20']);
  }
});

test('answering leaves the compiled zone as it was built', () => {
  const zone = catalog.zones[0]!;
  const before = inspect(zone, { depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity });
  const serving = servingState(catalog, { health: healthWithDown(['192.0.2.10']), geo: null, random: seededRandom(3) });
  for (const [name, type] of [['alias', 'A'], ['alias', 'AAAA'], ['routed', 'A'], ['geo', 'A'], ['only6', 'ANY'], ['x.child', 'A'], ['static', 'TXT'], ['@', 'NS'], ['nope', 'A']]) {
    ask(serving, name === '@' ? 'auth.test' : `${name}.auth.test`, type!, { address: '81.2.69.1', family: 4 });
  }
  assert.equal(inspect(zone, { depth: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity }), before);
});

test('a new serving state keeps the authority of a zone it did not change, with the same parts', () => {
  const parts = { health: healthWithDown([]), geo: null, random: seededRandom(1) };
  const first = servingState(catalog, parts);
  const other = new ZoneCatalog(compileZoneTexts(ZONE.replace('auth.test', 'other.test').replaceAll('.auth.test', '.other.test')));
  const second = servingState(new ZoneCatalog([...catalog.zones, ...other.zones]), parts, first);
  assert.equal(second.authorities.zone('auth.test'), first.authorities.zone('auth.test'));
  assert.ok(second.authorities.zone('other.test'));
  const third = servingState(catalog, { ...parts, health: healthWithDown(['192.0.2.10']) }, second);
  assert.notEqual(third.authorities.zone('auth.test'), first.authorities.zone('auth.test'));
});
