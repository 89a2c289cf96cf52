/**
 * Every record type of the contract zone through an independent client (Node's
 * dns.promises.Resolver, i.e. c-ares) and through raw packets for what a resolver hides:
 * sections, TTLs, additional records, negative answers with the SOA, ANY, routed names.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import { encodeName, formatRecord, formatSection, query, sortedLines, type Address, type ParsedResponse } from '../support/dns-client.js';
import { contractZone, dig, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

const LONG_TXT = 'a'.repeat(200) + 'b'.repeat(100); // 300 bytes: must travel as 255 + 45
const EXACT_TXT = 'x'.repeat(255);

// A second zone, served beside the contract: long TXT, tricky TXT text, CNAME chains and a
// negative TTL where the SOA's own TTL is the smaller number.
const RECORDS_ZONE = `
zone: records.test
ttl: 120
soa:
  mname: ns1.records.test
  rname: hostmaster.records.test
  serial: 7
  ttl: 30
  minimum: 600
records:
  "@":
    NS: [ns1.records.test]
  ns1: { A: 192.0.2.1 }
  long: { TXT: ["${LONG_TXT}"] }
  two: { TXT: [one, two] }
  exact: { TXT: ["${EXACT_TXT}"] }
  quoted: { TXT: ['say "hi" \\ back'] }
  out: { CNAME: www.example.org. }
  dangling: { CNAME: missing }
  chain1: { CNAME: chain2 }
  chain2: { CNAME: ns1 }
  to-rr: { CNAME: rr }
  rr: { pool: two }
  cross: { CNAME: static.example.test. }
  numbers: { TXT: [1.10, 0x1F, 1e3, 007, true] }
  v6: { pool: only6 }
  v6txt: { pool: only6, TXT: [hello] }
  v4: { pool: only4, TXT: [hello] }
pools:
  two: { members: [198.51.100.1, 198.51.100.2] }
  only6: { members: ["2001:db8::1", "2001:db8::2"] }
  only4: { members: [192.0.2.7] }
`;

let server: TestServer;
let udp: Address;
let resolver: dnsPromises.Resolver;

before(async () => {
  server = await startCoreServer({ zones: { 'example.test.yaml': contractZone(), 'records.test.yaml': RECORDS_ZONE } });
  udp = server.v4;
  resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`127.0.0.1:${udp.port}`]);
});
after(() => server.close());

const sorted = <T>(items: T[]): T[] => [...items].sort();

function assertNegative(res: ParsedResponse, rcode: 'NXDOMAIN' | 'NOERROR', soa: string): void {
  assert.equal(res.rcodeName, rcode);
  assert.equal(res.flags.aa, true);
  assert.deepEqual(res.answer, []);
  assert.deepEqual(formatSection(res.authority), [soa]);
}

const EXAMPLE_NEGATIVE_SOA = 'example.test. 60 IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 900 1209600 60';
const RECORDS_NEGATIVE_SOA = 'records.test. 30 IN SOA ns1.records.test. hostmaster.records.test. 7 7200 900 1209600 600';

// ---- every type through Node's resolver ----------------------------------------------------

test('A and AAAA (resolver)', async () => {
  assert.deepEqual(sorted(await resolver.resolve4('static.example.test')), ['192.0.2.10', '192.0.2.11', '192.0.2.12']);
  assert.deepEqual(sorted(await resolver.resolve6('static.example.test')), ['2001:db8::10', '2001:db8::11']);
  assert.deepEqual(await resolver.resolve6('ns1.example.test'), ['2001:db8::53']);
  const withTtl = await resolver.resolve4('mail.example.test', { ttl: true });
  assert.deepEqual(withTtl, [{ address: '192.0.2.25', ttl: 300 }]);
});

test('CNAME (resolver): the alias, and A through it', async () => {
  assert.deepEqual(await resolver.resolveCname('alias.example.test'), ['static.example.test']);
  assert.deepEqual(sorted(await resolver.resolve4('alias.example.test')), ['192.0.2.10', '192.0.2.11', '192.0.2.12']);
});

test('NS, SOA, MX, TXT, SRV, CAA (resolver)', async () => {
  assert.deepEqual(sorted(await resolver.resolveNs('example.test')), ['ns1.example.test', 'ns2.example.test']);
  assert.deepEqual(await resolver.resolveSoa('example.test'), {
    nsname: 'ns1.example.test',
    hostmaster: 'hostmaster.example.test',
    serial: 2026112201,
    refresh: 7200,
    retry: 900,
    expire: 1209600,
    minttl: 60,
  });
  assert.deepEqual(await resolver.resolveMx('example.test'), [{ priority: 10, exchange: 'mail.example.test' }]);
  assert.deepEqual(await resolver.resolveTxt('example.test'), [['v=spf1 -all']]);
  assert.deepEqual(await resolver.resolveSrv('_sip._udp.example.test'), [{ name: 'sip.example.test', port: 5060, priority: 10, weight: 5 }]);
  assert.deepEqual(await resolver.resolveCaa('example.test'), [{ critical: 0, issue: 'letsencrypt.org' }]);
});

test('negative answers (resolver): NXDOMAIN is ENOTFOUND, NODATA is ENODATA, outside is EREFUSED', async () => {
  await assert.rejects(resolver.resolve4('nope.example.test'), { code: 'ENOTFOUND' });
  await assert.rejects(resolver.resolveMx('static.example.test'), { code: 'ENODATA' });
  await assert.rejects(resolver.resolve4('_udp.example.test'), { code: 'ENODATA' });
  await assert.rejects(resolver.resolve4('www.example.org'), { code: 'EREFUSED' });
});

test('several zones are served at once (resolver)', async () => {
  assert.deepEqual(await resolver.resolve4('ns1.records.test'), ['192.0.2.1']);
  assert.deepEqual(await resolver.resolve4('ns1.example.test'), ['192.0.2.53']);
});

// ---- the same through raw packets: sections and TTLs -----------------------------------------

test('NS at the apex, with the in-zone addresses of the name servers as additional records', async () => {
  const res = await query(udp, 'example.test', 'NS');
  assert.equal(res.flags.aa, true);
  assert.deepEqual(sortedLines(res.answer), ['example.test. 300 IN NS ns1.example.test.', 'example.test. 300 IN NS ns2.example.test.']);
  assert.deepEqual(sortedLines(res.additional), [
    'ns1.example.test. 300 IN A 192.0.2.53',
    'ns1.example.test. 300 IN AAAA 2001:db8::53',
    'ns2.example.test. 300 IN A 198.51.100.53',
  ]);
});

test('SOA at the apex (also over TCP with dig)', async () => {
  const res = await query(udp, 'example.test', 'SOA');
  assert.deepEqual(formatSection(res.answer), ['example.test. 300 IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 900 1209600 60']);
  const out = await dig(udp, ['+tcp', '+norec', '+short', 'example.test', 'SOA']);
  assert.equal(out.trim(), 'ns1.example.test. hostmaster.example.test. 2026112201 7200 900 1209600 60');
});

test('MX with the in-zone exchange address in the additional section', async () => {
  const res = await query(udp, 'example.test', 'MX');
  assert.deepEqual(formatSection(res.answer), ['example.test. 300 IN MX 10 mail.example.test.']);
  assert.deepEqual(formatSection(res.additional), ['mail.example.test. 300 IN A 192.0.2.25']);
});

test('TXT, CAA, AAAA as dig prints them', async () => {
  assert.deepEqual(formatSection((await query(udp, 'example.test', 'TXT')).answer), ['example.test. 300 IN TXT "v=spf1 -all"']);
  assert.deepEqual(formatSection((await query(udp, 'example.test', 'CAA')).answer), ['example.test. 300 IN CAA 0 issue "letsencrypt.org"']);
  assert.deepEqual(sortedLines((await query(udp, 'static.example.test', 'AAAA')).answer), [
    'static.example.test. 60 IN AAAA 2001:db8::10',
    'static.example.test. 60 IN AAAA 2001:db8::11',
  ]);
  const caa = await dig(udp, ['+norec', '+short', 'example.test', 'CAA']);
  assert.equal(caa.trim(), '0 issue "letsencrypt.org"');
});

test('SRV: the target name is written out, never compressed (RFC 2782)', async () => {
  const res = await query(udp, '_sip._udp.example.test', 'SRV');
  assert.deepEqual(formatSection(res.answer), ['_sip._udp.example.test. 300 IN SRV 10 5 5060 sip.example.test.']);
  const rdata = res.answer[0]!.rdata;
  assert.deepEqual(rdata, Buffer.concat([Buffer.from([0, 10, 0, 5, 0x13, 0xc4]), encodeName('sip.example.test')]));
  assert.ok(!rdata.includes(0xc0), 'no compression pointer in the SRV RDATA');
});

test('a TXT string longer than 255 bytes is split into 255-byte character-strings', async () => {
  const res = await query(udp, 'long.records.test', 'TXT');
  assert.equal(res.answer.length, 1);
  const rdata = res.answer[0]!.rdata;
  assert.equal(rdata.length, 1 + 255 + 1 + 45);
  assert.equal(rdata[0], 255);
  assert.equal(rdata.subarray(1, 256).toString(), LONG_TXT.slice(0, 255));
  assert.equal(rdata[256], 45);
  assert.equal(rdata.subarray(257).toString(), LONG_TXT.slice(255));
  assert.equal(res.answer[0]!.data, `"${LONG_TXT.slice(0, 255)}" "${LONG_TXT.slice(255)}"`);
  // A resolver sees the same chunks of one record.
  assert.deepEqual(await resolver.resolveTxt('long.records.test'), [[LONG_TXT.slice(0, 255), LONG_TXT.slice(255)]]);
  // Exactly 255 bytes stays one string.
  const exact = await query(udp, 'exact.records.test', 'TXT');
  assert.equal(exact.answer[0]!.rdata.length, 256);
  assert.equal(exact.answer[0]!.rdata[0], 255);
});

test('unquoted TXT values (numbers, booleans) are served as written, not as YAML reads them', async () => {
  const res = await query(udp, 'numbers.records.test', 'TXT');
  assert.deepEqual(res.answer.map((r) => r.data).sort(), ['"007"', '"0x1F"', '"1.10"', '"1e3"', '"true"']);
});

test('each item of a TXT list is its own record', async () => {
  const res = await query(udp, 'two.records.test', 'TXT');
  assert.deepEqual(sortedLines(res.answer), ['two.records.test. 120 IN TXT "one"', 'two.records.test. 120 IN TXT "two"']);
});

test('TXT text with quotes and backslashes travels byte for byte', async () => {
  const res = await query(udp, 'quoted.records.test', 'TXT');
  assert.equal(res.answer[0]!.rdata.subarray(1).toString(), 'say "hi" \\ back');
  assert.deepEqual(formatSection(res.answer), ['quoted.records.test. 120 IN TXT "say \\"hi\\" \\\\ back"']);
});

// ---- CNAME ---------------------------------------------------------------------------------

test('an in-zone CNAME is chased: the CNAME, then the target records, owners as they are', async () => {
  const res = await query(udp, 'alias.example.test', 'A');
  assert.equal(res.rcodeName, 'NOERROR');
  assert.equal(res.flags.aa, true);
  assert.equal(formatRecord(res.answer[0]!), 'alias.example.test. 300 IN CNAME static.example.test.');
  assert.deepEqual(sortedLines(res.answer.slice(1)), [
    'static.example.test. 60 IN A 192.0.2.10',
    'static.example.test. 60 IN A 192.0.2.11',
    'static.example.test. 60 IN A 192.0.2.12',
  ]);
  const aaaa = await query(udp, 'alias.example.test', 'AAAA');
  assert.deepEqual(formatSection(aaaa.answer).slice(0, 1), ['alias.example.test. 300 IN CNAME static.example.test.']);
  assert.equal(aaaa.answer.length, 3);
});

test('the CNAME owner keeps the qname case; the target owner is the zone name', async () => {
  const res = await query(udp, 'ALIAS.Example.TEST', 'A');
  assert.equal(formatRecord(res.answer[0]!), 'ALIAS.Example.TEST. 300 IN CNAME static.example.test.');
  assert.ok(res.answer.slice(1).every((r) => r.name === 'static.example.test.'));
});

test('asking for the CNAME type itself returns only the CNAME (UDP, TCP and a resolver)', async () => {
  for (const tcp of [false, true]) {
    const res = await query(udp, 'Alias.Example.Test', 'CNAME', { tcp });
    assert.equal(res.rcodeName, 'NOERROR');
    assert.equal(res.flags.aa, true);
    assert.deepEqual(formatSection(res.answer), ['Alias.Example.Test. 300 IN CNAME static.example.test.']);
    assert.deepEqual(res.authority, []);
  }
  assert.deepEqual(await resolver.resolveCname('alias.example.test'), ['static.example.test']);
});

test('a CNAME whose target lacks the type: the CNAME plus NODATA with the SOA', async () => {
  const res = await query(udp, 'alias.example.test', 'MX');
  assert.equal(res.rcodeName, 'NOERROR');
  assert.deepEqual(formatSection(res.answer), ['alias.example.test. 300 IN CNAME static.example.test.']);
  assert.deepEqual(formatSection(res.authority), [EXAMPLE_NEGATIVE_SOA]);
});

test('CNAME chains are followed inside the zone; out-of-zone targets are left to the resolver', async () => {
  const chain = await query(udp, 'chain1.records.test', 'A');
  assert.deepEqual(formatSection(chain.answer), [
    'chain1.records.test. 120 IN CNAME chain2.records.test.',
    'chain2.records.test. 120 IN CNAME ns1.records.test.',
    'ns1.records.test. 120 IN A 192.0.2.1',
  ]);
  const out = await query(udp, 'out.records.test', 'A');
  assert.equal(out.rcodeName, 'NOERROR');
  assert.deepEqual(formatSection(out.answer), ['out.records.test. 120 IN CNAME www.example.org.']);
  // A target in another zone we serve is not chased (each zone answers for itself).
  const cross = await query(udp, 'cross.records.test', 'A');
  assert.equal(formatRecord(cross.answer[0]!), 'cross.records.test. 120 IN CNAME static.example.test.');
});

test('a CNAME to a missing in-zone name: NXDOMAIN with the CNAME in the answer (RFC 6604)', async () => {
  const res = await query(udp, 'dangling.records.test', 'A');
  assert.equal(res.rcodeName, 'NXDOMAIN');
  assert.deepEqual(formatSection(res.answer), ['dangling.records.test. 120 IN CNAME missing.records.test.']);
  assert.deepEqual(formatSection(res.authority), [RECORDS_NEGATIVE_SOA]);
});

test('a CNAME to a pool name: the CNAME, then the pool members under the target name', async () => {
  const res = await query(udp, 'to-rr.records.test', 'A');
  assert.equal(formatRecord(res.answer[0]!), 'to-rr.records.test. 120 IN CNAME rr.records.test.');
  assert.deepEqual(sortedLines(res.answer.slice(1)), ['rr.records.test. 120 IN A 198.51.100.1', 'rr.records.test. 120 IN A 198.51.100.2']);
});

// ---- negative answers ----------------------------------------------------------------------

test('NXDOMAIN carries the SOA with TTL = min(SOA TTL, minimum): 60 when minimum is smaller', async () => {
  assertNegative(await query(udp, 'nope.example.test', 'A'), 'NXDOMAIN', EXAMPLE_NEGATIVE_SOA);
  // Below an existing name is NXDOMAIN too.
  assertNegative(await query(udp, 'deeper.static.example.test', 'A'), 'NXDOMAIN', EXAMPLE_NEGATIVE_SOA);
});

test('NXDOMAIN and NODATA SOA TTL is 30 when the SOA TTL is smaller than minimum', async () => {
  assertNegative(await query(udp, 'nope.records.test', 'A'), 'NXDOMAIN', RECORDS_NEGATIVE_SOA);
  assertNegative(await query(udp, 'ns1.records.test', 'AAAA'), 'NOERROR', RECORDS_NEGATIVE_SOA);
});

test('NODATA (the name exists, the type does not) carries the SOA', async () => {
  assertNegative(await query(udp, 'static.example.test', 'MX'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
  assertNegative(await query(udp, 'mail.example.test', 'AAAA'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
  assertNegative(await query(udp, 'example.test', 'A'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
  // A type the server has never heard of is NODATA at an existing name, too.
  assertNegative(await query(udp, 'static.example.test', 'TYPE65280'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
});

test('an empty non-terminal (_udp exists only because _sip._udp does) is NODATA, not NXDOMAIN', async () => {
  for (const type of ['A', 'SRV', 'TXT', 'ANY']) {
    assertNegative(await query(udp, '_udp.example.test', type), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
  }
  assertNegative(await query(udp, '_UDP.Example.Test', 'A'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
  // …while a sibling that exists nowhere is NXDOMAIN.
  assertNegative(await query(udp, '_tcp.example.test', 'A'), 'NXDOMAIN', EXAMPLE_NEGATIVE_SOA);
});

test('dig shows NXDOMAIN with the SOA in the authority section', async () => {
  const out = await dig(udp, ['+norec', 'nope.example.test', 'A']);
  assert.match(out, /status: NXDOMAIN/);
  assert.match(out, /;; AUTHORITY SECTION:\nexample\.test\.\s+60\s+IN\s+SOA\s+ns1\.example\.test\. hostmaster\.example\.test\. 2026112201 7200 900 1209600 60/);
});

// ---- ANY -----------------------------------------------------------------------------------

async function assertMinimalAny(name: string, expectType?: string): Promise<ParsedResponse> {
  const res = await query(udp, name, 'ANY');
  assert.equal(res.rcodeName, 'NOERROR', name);
  assert.ok(res.answer.length > 0, `${name}: ANY is answered`);
  const types = new Set(res.answer.map((r) => r.type));
  assert.equal(types.size, 1, `${name}: exactly one RRset, got ${[...types].join(', ')}`);
  if (expectType) assert.deepEqual([...types], [expectType], name);
  return res;
}

test('ANY gets one RRset (RFC 8482), never the whole node', async () => {
  // The apex holds SOA, NS, MX, TXT and CAA: one of them comes back, complete.
  const apex = await assertMinimalAny('example.test');
  const type = apex.answer[0]!.type;
  const full = await query(udp, 'example.test', type);
  assert.deepEqual(sortedLines(apex.answer), sortedLines(full.answer));
  await assertMinimalAny('static.example.test');
  await assertMinimalAny('alias.example.test', 'CNAME');
  assert.equal((await assertMinimalAny('alias.example.test', 'CNAME')).answer.length, 1);
  await assertMinimalAny('www.example.test', 'A');
  // Over TCP too: no "the whole node because the size allows it".
  const tcp = await query(udp, 'example.test', 'ANY', { tcp: true });
  assert.equal(new Set(tcp.answer.map((r) => r.type)).size, 1);
  // ANY at an empty non-terminal and at a missing name.
  assertNegative(await query(udp, 'nope.example.test', 'ANY'), 'NXDOMAIN', EXAMPLE_NEGATIVE_SOA);
});

test('ANY at a routed name answers an RRset its pools have: AAAA for IPv6-only pools, A otherwise', async () => {
  for (const name of ['v6.records.test', 'v6txt.records.test']) {
    const res = await query(udp, name, 'ANY');
    assert.equal(res.rcodeName, 'NOERROR');
    assert.deepEqual(sortedLines(res.answer), [`${name}. 120 IN AAAA 2001:db8::1`, `${name}. 120 IN AAAA 2001:db8::2`]);
  }
  const v4 = await query(udp, 'v4.records.test', 'ANY');
  assert.deepEqual(formatSection(v4.answer), ['v4.records.test. 120 IN A 192.0.2.7']);
});

// ---- routed names without geo or health -----------------------------------------------------

test('geo name (www) answers from its default list: virginia, both members, TTL 30', async () => {
  const res = await query(udp, 'www.example.test', 'A');
  assert.equal(res.flags.aa, true);
  assert.deepEqual(sortedLines(res.answer), ['www.example.test. 30 IN A 127.0.4.1', 'www.example.test. 30 IN A 127.0.4.2']);
  assert.deepEqual(sorted(await resolver.resolve4('www.example.test')), ['127.0.4.1', '127.0.4.2']);
});

test('geo name AAAA: virginia has no IPv6 member, so the next default pool (frankfurt) answers', async () => {
  const res = await query(udp, 'www.example.test', 'AAAA');
  assert.deepEqual(formatSection(res.answer), ['www.example.test. 30 IN AAAA 2001:db8:2::1']);
});

test('failover name (api) answers the primary pool; AAAA is NODATA', async () => {
  const res = await query(udp, 'api.example.test', 'A');
  assert.deepEqual(formatSection(res.answer), ['api.example.test. 30 IN A 127.0.5.1']);
  assertNegative(await query(udp, 'api.example.test', 'AAAA'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
});

test('pool name (app) answers at most 2 enabled members; a routed name without that type is NODATA', async () => {
  const res = await query(udp, 'app.example.test', 'A');
  assert.deepEqual(sortedLines(res.answer), ['app.example.test. 300 IN A 127.0.6.1', 'app.example.test. 300 IN A 127.0.6.2']);
  assertNegative(await query(udp, 'app.example.test', 'AAAA'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
  assertNegative(await query(udp, 'www.example.test', 'TXT'), 'NOERROR', EXAMPLE_NEGATIVE_SOA);
});
