/**
 * What compiling puts on a zone besides its nodes: the index the server, admin, metrics and
 * explain read (pools, probe targets, routed pool lists), and records with the owner written
 * out exactly where an answer can need them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { probeKeyOf } from '../health/index.js';
import { encodeName, RRType } from '../wire/index.js';
import { compileZone, parseZoneFile, type CompiledZone } from './index.js';

function compile(file: string, text: string): CompiledZone {
  const parsed = parseZoneFile(file, text);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.diagnostics.map((d) => d.message).join('\n'));
  return compileZone(parsed.zone, 1, probeKeyOf);
}

const example = compile('example.test.yaml', readFileSync(new URL('../../zones/example.test.yaml', import.meta.url), 'utf8'));

test('every pool of every routed name is listed once per name, in zone order', () => {
  assert.deepEqual(
    example.pools.map((pool) => `${pool.owner} ${pool.name}`),
    ['www.example.test london', 'www.example.test frankfurt', 'www.example.test tokyo', 'www.example.test virginia', 'api.example.test primary', 'api.example.test standby', 'app.example.test app-all'],
  );
});

test('probe targets: one per (probe address, check), with every member that depends on it', () => {
  assert.equal(example.probeTargets.length, 11);
  const web = example.pools.find((pool) => pool.name === 'london')!.check!;
  const london1 = example.probeTargets.find((target) => target.probeKey === probeKeyOf('127.0.1.1', web));
  assert.deepEqual(london1?.members, [
    { zone: 'example.test', pool: 'london', address: '127.0.1.1' },
    { zone: 'example.test', pool: 'london', address: '2001:db8:1::1' },
  ]);
  assert.equal(london1?.address, '127.0.1.1');
  assert.equal(london1?.check.name, 'web');
});

test('routed lists: each distinct pool list a name can answer from', () => {
  assert.deepEqual(
    example.routedLists.map((list) => `${list.name} [${list.poolNames.join(',')}] ${list.whenAllDown}`),
    [
      'www.example.test [london,frankfurt] fail-open',
      'www.example.test [tokyo,virginia] fail-open',
      'www.example.test [frankfurt,london] fail-open',
      'www.example.test [virginia,frankfurt] fail-open',
      'api.example.test [primary,standby] fail-open',
      'app.example.test [app-all] fail-open',
    ],
  );
  for (const list of example.routedLists) assert.deepEqual(list.pools.map((pool) => pool.name), list.poolNames);
});

const owned = compile(
  'owned.test.yaml',
  `zone: owned.test
soa: { mname: ns1.owned.test, rname: hostmaster.owned.test }
records:
  "@": { NS: [ns1.owned.test] }
  ns1: { A: 192.0.2.53 }
  plain: { A: 192.0.2.1 }
  target: { A: 192.0.2.2, TXT: ["t"] }
  alias: { CNAME: target }
  to-routed: { CNAME: routed }
  routed: { pool: web }
  other: { pool: web }
  child: { NS: [ns.child.owned.test] }
  ns.child: { A: 192.0.2.54 }
pools:
  web: { members: [192.0.2.80, "2001:db8::80"] }
`,
);

function startsWithOwner(record: Buffer, owner: string): boolean {
  const wire = encodeName(owner);
  return record.subarray(0, wire.length).equals(wire);
}

test('records with the owner written out exist at CNAME targets and delegations, and only there', () => {
  const node = (name: string) => owned.nodes.get(`${name}.owned.test`)!;
  const target = node('target');
  for (const type of [RRType.A, RRType.TXT]) {
    const set = target.rrsets.get(type)!;
    assert.equal(set.namedRecords?.length, set.records.length);
    assert.ok(set.namedRecords!.every((record) => startsWithOwner(record, 'target.owned.test')));
  }
  assert.equal(node('plain').rrsets.get(RRType.A)!.namedRecords, null);
  assert.equal(node('alias').cname!.rrset.namedRecords, null);

  const routedMembers = [...node('routed').routed!.pools[0]!.members4, ...node('routed').routed!.pools[0]!.members6];
  assert.ok(routedMembers.every((member) => member.namedRecord !== null && startsWithOwner(member.namedRecord, 'routed.owned.test')));
  assert.ok(node('other').routed!.pools[0]!.members4.every((member) => member.namedRecord === null));

  const delegation = node('child').delegation!;
  assert.ok(delegation.namedRecords!.every((record) => startsWithOwner(record, 'child.owned.test')));
  assert.equal(node('child').glue.length, 1);
  assert.ok(startsWithOwner(owned.negativeSoa, 'owned.test'));
});
