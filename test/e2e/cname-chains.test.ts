/**
 * CNAME chains answered as Knot answers them (checked against Knot 3.2 with the same zone). A chain
 * into a delegation, or to glue below a cut, ends in a referral: the CNAME in the answer, AA=1, the
 * child's NS in the authority section and its glue. A chain longer than five CNAMEs is cut after the
 * fifth, NOERROR; a chain into a child zone served here too is referred from the parent's cut.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSection, query, sortedLines, type Address } from '../support/dns-client.js';
import { startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

const ZONE = `
zone: cz.test
ttl: 300
soa: { mname: ns1.cz.test, rname: hostmaster.cz.test, serial: 1, minimum: 60 }
records:
  "@": { NS: [ns1.cz.test.] }
  ns1: { A: 192.0.2.53 }
  sub: { NS: [ns.sub.cz.test.] }
  ns.sub: { A: 192.0.2.99 }
  tosub: { CNAME: www.sub.cz.test. }
  toglue: { CNAME: ns.sub.cz.test. }
  tocut: { CNAME: sub.cz.test. }
  hop: { CNAME: tosub.cz.test. }
  c1: { CNAME: c2.cz.test. }
  c2: { CNAME: c3.cz.test. }
  c3: { CNAME: c4.cz.test. }
  c4: { CNAME: c5.cz.test. }
  c5: { CNAME: c6.cz.test. }
  c6: { CNAME: c7.cz.test. }
  c7: { A: 192.0.2.7 }
  served: { NS: [ns1.cz.test.] }
  toserved: { CNAME: www.served.cz.test. }
`;

// The child of the cut at served.cz.test, served by the same server.
const CHILD = `
zone: served.cz.test
soa: { mname: ns1.cz.test, rname: hostmaster.cz.test, serial: 1, minimum: 60 }
records:
  "@": { NS: [ns1.cz.test.] }
  www: { A: 192.0.2.80 }
`;

const REFERRAL = ['sub.cz.test. 300 IN NS ns.sub.cz.test.'];
const GLUE = ['ns.sub.cz.test. 300 IN A 192.0.2.99'];

let server: TestServer;
let udp: Address;
before(async () => {
  server = await startCoreServer({ zones: { 'cz.test.yaml': ZONE, 'served.cz.test.yaml': CHILD } });
  udp = server.v4;
});
after(() => server.close());

test('a CNAME into a delegation: the CNAME, AA, and a referral to the child', async () => {
  for (const type of ['A', 'AAAA', 'TXT', 'NS']) {
    const res = await query(udp, 'tosub.cz.test', type);
    assert.equal(res.rcodeName, 'NOERROR', type);
    assert.equal(res.flags.aa, true, type);
    assert.deepEqual(formatSection(res.answer), ['tosub.cz.test. 300 IN CNAME www.sub.cz.test.'], type);
    assert.deepEqual(formatSection(res.authority), REFERRAL, type);
    assert.deepEqual(formatSection(res.additional), GLUE, type);
  }
});

test('a CNAME to glue below a cut is referred, not answered with the glue as our data', async () => {
  const res = await query(udp, 'toglue.cz.test', 'A');
  assert.equal(res.rcodeName, 'NOERROR');
  assert.equal(res.flags.aa, true);
  assert.deepEqual(formatSection(res.answer), ['toglue.cz.test. 300 IN CNAME ns.sub.cz.test.']);
  assert.deepEqual(formatSection(res.authority), REFERRAL);
  assert.deepEqual(formatSection(res.additional), GLUE);
});

test('a CNAME to the cut itself is referred; for DS the parent answers NODATA', async () => {
  const ns = await query(udp, 'tocut.cz.test', 'NS');
  assert.equal(ns.flags.aa, true);
  assert.deepEqual(formatSection(ns.answer), ['tocut.cz.test. 300 IN CNAME sub.cz.test.']);
  assert.deepEqual(formatSection(ns.authority), REFERRAL);
  const ds = await query(udp, 'tocut.cz.test', 'DS');
  assert.equal(ds.rcodeName, 'NOERROR');
  assert.deepEqual(formatSection(ds.answer), ['tocut.cz.test. 300 IN CNAME sub.cz.test.']);
  assert.deepEqual(formatSection(ds.authority), ['cz.test. 60 IN SOA ns1.cz.test. hostmaster.cz.test. 1 7200 900 1209600 60']);
});

test('a two-hop chain into a delegation keeps both CNAMEs before the referral', async () => {
  const res = await query(udp, 'hop.cz.test', 'A');
  assert.equal(res.flags.aa, true);
  assert.deepEqual(formatSection(res.answer), ['hop.cz.test. 300 IN CNAME tosub.cz.test.', 'tosub.cz.test. 300 IN CNAME www.sub.cz.test.']);
  assert.deepEqual(formatSection(res.authority), REFERRAL);
});

test('the names below a cut are still referred without AA when asked directly', async () => {
  const res = await query(udp, 'ns.sub.cz.test', 'A');
  assert.equal(res.flags.aa, false);
  assert.deepEqual(res.answer, []);
  assert.deepEqual(formatSection(res.authority), REFERRAL);
  assert.deepEqual(sortedLines(res.additional), GLUE);
});

test('a chain of more than five CNAMEs is cut after the fifth, NOERROR, nothing in authority', async () => {
  const res = await query(udp, 'c1.cz.test', 'A');
  assert.equal(res.rcodeName, 'NOERROR');
  assert.equal(res.flags.aa, true);
  assert.deepEqual(formatSection(res.answer), [1, 2, 3, 4, 5].map((i) => `c${i}.cz.test. 300 IN CNAME c${i + 1}.cz.test.`));
  assert.deepEqual(res.authority, []);
});

test('a chain of five CNAMEs still ends in the target data', async () => {
  const res = await query(udp, 'c2.cz.test', 'A');
  assert.deepEqual(formatSection(res.answer), [
    ...[2, 3, 4, 5, 6].map((i) => `c${i}.cz.test. 300 IN CNAME c${i + 1}.cz.test.`),
    'c7.cz.test. 300 IN A 192.0.2.7',
  ]);
});

test('a CNAME into a child zone served here too is referred from the parent, as Knot does', async () => {
  const res = await query(udp, 'toserved.cz.test', 'A');
  assert.equal(res.rcodeName, 'NOERROR');
  assert.equal(res.flags.aa, true);
  assert.deepEqual(formatSection(res.answer), ['toserved.cz.test. 300 IN CNAME www.served.cz.test.']);
  assert.deepEqual(formatSection(res.authority), ['served.cz.test. 300 IN NS ns1.cz.test.']);
  const child = await query(udp, 'www.served.cz.test', 'A');
  assert.equal(child.flags.aa, true);
  assert.deepEqual(formatSection(child.answer), ['www.served.cz.test. 300 IN A 192.0.2.80']);
});
