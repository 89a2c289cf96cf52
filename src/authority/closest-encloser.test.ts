/**
 * RFC 4592's closest-encloser rules, on a compiled zone: which wildcard (if any) answers a name
 * the zone does not hold. The answers built from it (owner, NODATA, CNAME chasing, referrals,
 * routing) are in wildcard-answers.test.ts; the same rules against Knot in
 * test/e2e/wildcards-differential.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileZoneTexts } from '../../test/support/compiled-zones.js';
import { wildcardFor } from './index.js';

const ZONE = `zone: wild.test
soa: { mname: ns1.wild.test, rname: hostmaster.wild.test }
records:
  "@": { NS: [ns1.wild.test] }
  ns1: { A: 192.0.2.53 }
  "*": { TXT: apex wildcard }
  "*.w": { A: 192.0.2.1 }
  host.w: { A: 192.0.2.2 }
  a.ent.w: { A: 192.0.2.3 }
  "*.deep.ent2": { A: 192.0.2.4 }
  plain.sub: { A: 192.0.2.5 }
`;
const zone = compileZoneTexts(ZONE)[0]!;
const source = (name: string): string | null => wildcardFor(zone, `${name}.wild.test`)?.name ?? null;

test('a missing name one or more labels below a wildcard\'s parent is answered from that wildcard', () => {
  assert.equal(source('x.w'), '*.w.wild.test');
  assert.equal(source('y.x.w'), '*.w.wild.test');
  assert.equal(source('nothing'), '*.wild.test');
  assert.equal(source('a.b.c'), '*.wild.test');
  assert.equal(source('x.deep.ent2'), '*.deep.ent2.wild.test');
});

test('the closest encloser decides: an existing name, empty non-terminals included, blocks wildcards above it', () => {
  // host.w exists: below it there is no wildcard, so nothing answers (NXDOMAIN), not *.w.
  assert.equal(source('x.host.w'), null);
  // ent.w exists only as the parent of a.ent.w: it blocks *.w for names below it.
  assert.equal(source('b.ent.w'), null);
  // ent2 and deep.ent2 are empty non-terminals: deep.ent2 is the closest encloser of x.deep.ent2,
  // ent2 that of x.ent2, which the apex wildcard does not reach.
  assert.equal(source('x.ent2'), null);
  // plain.sub exists and sub is an empty non-terminal: below sub, only sub's own wildcard would answer.
  assert.equal(source('other.sub'), null);
});

test('a zone without wildcards never climbs the name', () => {
  const plain = compileZoneTexts(ZONE.replace(/^ {2}"\*.*\n/gm, ''))[0]!;
  assert.equal(plain.wildcards.size, 0);
  assert.equal(wildcardFor(plain, 'x.w.wild.test'), null);
});

test('the compiled zone indexes each wildcard by its parent', () => {
  assert.deepEqual([...zone.wildcards].map(([parent, node]) => `${parent} → ${node.name}`).sort(), [
    'deep.ent2.wild.test → *.deep.ent2.wild.test',
    'w.wild.test → *.w.wild.test',
    'wild.test → *.wild.test',
  ]);
});
