/**
 * The authoritative rules, without sockets: zone YAML compiled as the server compiles it, one
 * question through answerQuery, the response read back through the wire codec. The end-to-end
 * tests (test/e2e/records.test.ts, with a resolver and dig as peers) prove the same answers
 * travel; these prove the rules: REFUSED, referrals, CNAME chasing, NXDOMAIN/NODATA with the SOA,
 * empty non-terminals, ANY.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ask, servingOf } from '../../test/support/compiled-zones.js';

const ZONE = `
zone: rules.test
ttl: 300
soa: { mname: ns1.rules.test, rname: hostmaster.rules.test, serial: 7, ttl: 120, minimum: 60 }
records:
  "@":
    NS: [ns1.rules.test]
    MX: [{ preference: 10, exchange: mail.rules.test }]
    TXT: [apex]
  ns1: { A: 192.0.2.53 }
  mail: { A: 192.0.2.25 }
  www: { A: [192.0.2.1, 192.0.2.2], AAAA: "2001:db8::1" }
  alias: { CNAME: www }
  chain1: { CNAME: chain2 }
  chain2: { CNAME: alias }
  dangling: { CNAME: missing }
  outside: { CNAME: www.example.org. }
  _sip._udp: { SRV: [{ priority: 10, weight: 5, port: 5060, target: www.rules.test }] }
  sub: { NS: [ns1.sub.rules.test, ns.elsewhere.example.] }
  ns1.sub: { A: 192.0.2.99 }
  deep.sub: { A: 192.0.2.98 }
`;

const serving = servingOf([ZONE]);
const SOA = 'rules.test. 60 IN SOA ns1.rules.test. hostmaster.rules.test. 7 7200 900 1209600 60';

test('a name outside every zone, and a zone transfer, are REFUSED without the AA bit', () => {
  for (const [name, type] of [['www.example.org', 'A'], ['test', 'SOA'], ['rules.test', 'AXFR'], ['rules.test', 'IXFR']] as const) {
    const res = ask(serving, name, type);
    assert.deepEqual([res.rcode, res.aa, res.answer, res.authority], ['REFUSED', false, [], []], `${name} ${type}`);
  }
});

test('an existing RRset: every record, AA set, nothing in authority; MX brings its in-zone address', () => {
  const a = ask(serving, 'www.rules.test', 'A');
  assert.deepEqual([a.rcode, a.aa], ['NOERROR', true]);
  assert.deepEqual([...a.answer].sort(), ['www.rules.test. 300 IN A 192.0.2.1', 'www.rules.test. 300 IN A 192.0.2.2']);
  assert.deepEqual(a.authority, []);
  const mx = ask(serving, 'rules.test', 'MX');
  assert.deepEqual(mx.answer, ['rules.test. 300 IN MX 10 mail.rules.test.']);
  assert.deepEqual(mx.additional, ['mail.rules.test. 300 IN A 192.0.2.25']);
});

test('names are matched without regard to case, and the answer keeps the case of the question', () => {
  const res = ask(serving, 'WwW.Rules.TEST', 'AAAA');
  assert.deepEqual(res.answer, ['WwW.Rules.TEST. 300 IN AAAA 2001:db8::1']);
});

test('NXDOMAIN and NODATA carry the SOA with TTL min(SOA TTL, minimum) and no answer', () => {
  const nx = ask(serving, 'nope.rules.test', 'A');
  assert.deepEqual([nx.rcode, nx.aa, nx.answer, nx.authority], ['NXDOMAIN', true, [], [SOA]]);
  const nodata = ask(serving, 'mail.rules.test', 'AAAA');
  assert.deepEqual([nodata.rcode, nodata.aa, nodata.answer, nodata.authority], ['NOERROR', true, [], [SOA]]);
});

test('an empty non-terminal (_udp exists only because _sip._udp does) is NODATA, not NXDOMAIN', () => {
  const res = ask(serving, '_udp.rules.test', 'A');
  assert.deepEqual([res.rcode, res.answer, res.authority], ['NOERROR', [], [SOA]]);
  assert.equal(ask(serving, '_tcp.rules.test', 'A').rcode, 'NXDOMAIN');
});

test('an in-zone CNAME is chased: the CNAME first, then the target records under the target name', () => {
  const res = ask(serving, 'alias.rules.test', 'A');
  assert.equal(res.rcode, 'NOERROR');
  assert.equal(res.answer[0], 'alias.rules.test. 300 IN CNAME www.rules.test.');
  assert.deepEqual(res.answer.slice(1).sort(), ['www.rules.test. 300 IN A 192.0.2.1', 'www.rules.test. 300 IN A 192.0.2.2']);
});

test('a CNAME chain is followed link by link inside the zone', () => {
  const res = ask(serving, 'chain1.rules.test', 'AAAA');
  assert.deepEqual(res.answer, [
    'chain1.rules.test. 300 IN CNAME chain2.rules.test.',
    'chain2.rules.test. 300 IN CNAME alias.rules.test.',
    'alias.rules.test. 300 IN CNAME www.rules.test.',
    'www.rules.test. 300 IN AAAA 2001:db8::1',
  ]);
});

test('a CNAME whose target lacks the type: the CNAME and NODATA with the SOA', () => {
  const res = ask(serving, 'alias.rules.test', 'MX');
  assert.deepEqual([res.rcode, res.answer, res.authority], ['NOERROR', ['alias.rules.test. 300 IN CNAME www.rules.test.'], [SOA]]);
});

test('a CNAME to a missing in-zone name is NXDOMAIN with the CNAME (RFC 6604); an out-of-zone target is left to the resolver', () => {
  const dangling = ask(serving, 'dangling.rules.test', 'A');
  assert.deepEqual([dangling.rcode, dangling.answer, dangling.authority], ['NXDOMAIN', ['dangling.rules.test. 300 IN CNAME missing.rules.test.'], [SOA]]);
  const outside = ask(serving, 'outside.rules.test', 'A');
  assert.deepEqual([outside.rcode, outside.answer, outside.authority], ['NOERROR', ['outside.rules.test. 300 IN CNAME www.example.org.'], []]);
});

test('a question for the CNAME type itself gets the CNAME alone, not chased', () => {
  const res = ask(serving, 'chain1.rules.test', 'CNAME');
  assert.deepEqual([res.rcode, res.answer], ['NOERROR', ['chain1.rules.test. 300 IN CNAME chain2.rules.test.']]);
});

test('at and below a zone cut: a referral with the NS set and in-zone glue, AA clear', () => {
  for (const name of ['sub.rules.test', 'deep.sub.rules.test', 'x.y.sub.rules.test']) {
    const res = ask(serving, name, 'A');
    assert.deepEqual([res.rcode, res.aa, res.answer], ['NOERROR', false, []], name);
    assert.deepEqual([...res.authority].sort(), ['sub.rules.test. 300 IN NS ns.elsewhere.example.', 'sub.rules.test. 300 IN NS ns1.sub.rules.test.'], name);
    assert.deepEqual(res.additional, ['ns1.sub.rules.test. 300 IN A 192.0.2.99'], name);
  }
});

test('DS at the cut is answered by the parent side: NODATA with the SOA, not a referral', () => {
  const res = ask(serving, 'sub.rules.test', 'DS');
  assert.deepEqual([res.rcode, res.aa, res.answer, res.authority], ['NOERROR', true, [], [SOA]]);
});

test('ANY gets one whole RRset the name has (RFC 8482), a CNAME at an alias, NXDOMAIN for a missing name', () => {
  const apex = ask(serving, 'rules.test', 'ANY');
  assert.equal(apex.rcode, 'NOERROR');
  const types = new Set(apex.answer.map((line) => line.split(' ')[3]));
  assert.equal(types.size, 1, apex.answer.join('\n'));
  const type = [...types][0]!;
  assert.deepEqual([...apex.answer].sort(), [...ask(serving, 'rules.test', type).answer].sort(), `the whole ${type} RRset`);
  assert.deepEqual(ask(serving, 'alias.rules.test', 'ANY').answer, ['alias.rules.test. 300 IN CNAME www.rules.test.']);
  assert.equal(ask(serving, 'nope.rules.test', 'ANY').rcode, 'NXDOMAIN');
  const ent = ask(serving, '_udp.rules.test', 'ANY');
  assert.deepEqual([ent.rcode, ent.answer], ['NOERROR', []]);
});

test('the most specific zone answers when one zone is inside another', () => {
  const inner = `
zone: inner.rules.test
soa: { mname: ns1.inner.rules.test, rname: hostmaster.inner.rules.test, serial: 1 }
records:
  "@": { NS: [ns1.inner.rules.test] }
  ns1: { A: 192.0.2.77 }
`;
  const both = servingOf([ZONE, inner]);
  assert.deepEqual(ask(both, 'ns1.inner.rules.test', 'A').answer, ['ns1.inner.rules.test. 300 IN A 192.0.2.77']);
  assert.equal(ask(both, 'nope.inner.rules.test', 'A').authority[0]?.split(' ')[0], 'inner.rules.test.');
});
