/**
 * Issue 3, "Which client": EDNS Client Subnet (RFC 7871) end to end. The ECS subnet decides
 * instead of the source address; the answer echoes the option with the SCOPE PREFIX-LENGTH of
 * the data that decided, 0 for answers that do not depend on location (static records,
 * NXDOMAIN, NODATA), 0 when the source prefix is 0 (answered for the resolver's own address);
 * a nested network rule raises the scope so a resolver cannot cache one answer across it;
 * TCP works the same; a malformed option gets FORMERR. dig sees the same as the raw client.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQuery, ecsOptionData, EDNS_ECS, parseResponse, query, sendTcp, sendUdp, type Address } from '../support/dns-client.js';
import { dig } from '../support/e2e.js';
import { buildGeoFixtures } from '../support/geo-fixtures.js';
import { ask, geoZone, poolA, poolAAAA } from '../support/geo-zone.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';

async function cityServer(t: TestContext): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await buildGeoFixtures(dir);
  const server = await startTestServer({ zones: { 'example.test.yaml': geoZone() }, geoipFiles: [paths.city, paths.asn], healthDisabled: true });
  t.after(() => server.close());
  return server;
}

test('ECS scope: the decisive network, raised by nested network rules, 0 where location does not matter', async (t) => {
  const server = await cityServer(t);
  const v4 = server.v4;

  await t.test('the echoed option repeats family, source prefix and address', async () => {
    const v4Answer = await ask(v4, 'www', 'A', '81.2.69.0/24');
    assert.deepEqual(v4Answer.ecs, { family: 1, source: 24, scope: 25, address: '81.2.69.0' });
    const v6Answer = await ask(v4, 'www', 'A', '2001:db8:ca::/48');
    assert.deepEqual(v6Answer.ecs, { family: 2, source: 48, scope: 48, address: '2001:db8:ca::' });
    assert.deepEqual(v6Answer.addresses, [poolA('california')], 'an IPv6 subnet can ask for A records');
  });

  await t.test('scope is the database network prefix, not the source prefix', async () => {
    // FR is 90.0.0.0/16 in the City and ASN databases: a /24 and a /32 inside it both get /16.
    for (const subnet of ['90.0.0.0/16', '90.0.12.0/24', '90.0.12.34/32']) {
      const answer = await ask(v4, 'www', 'A', subnet);
      assert.deepEqual(answer.addresses, [poolA('orange')]);
      assert.equal(answer.ecs?.scope, 16, subnet);
    }
    // 198.51.100.0/24 is one database network (US-CA), but `www` has a network rule for its
    // upper /25: a client in the lower half must get /25, or a resolver would hand california
    // to the office. A wider source (/24) gets the longer scope too (RFC 7871 §7.2.1).
    for (const subnet of ['198.51.100.0/24', '198.51.100.0/25', '198.51.100.7/32']) {
      const answer = await ask(v4, 'www', 'A', subnet);
      assert.deepEqual(answer.addresses, [poolA('california')], subnet);
      assert.equal(answer.ecs?.scope, 25, subnet);
    }
    // `near` has no network rule: the same client gets the database's /24.
    const near = await ask(v4, 'near', 'A', '198.51.100.0/24');
    assert.equal(near.ecs?.scope, 24);
    // A network rule answer: the rule's own prefix.
    const office = await ask(v4, 'www', 'A', '198.51.100.128/25');
    assert.deepEqual(office.addresses, [poolA('office')]);
    assert.equal(office.ecs?.scope, 25);
    // IPv6: DE is 2001:db8:de::/48 in the database, the office rule 2001:db8:de:1::/64 is inside it.
    const de = await ask(v4, 'www', 'AAAA', '2001:db8:de::/48');
    assert.deepEqual(de.addresses, [poolAAAA('frankfurt')]);
    assert.equal(de.ecs?.scope, 64);
    const deNear = await ask(v4, 'near', 'AAAA', '2001:db8:de::/48');
    assert.equal(deNear.ecs?.scope, 48, 'no network rule in `near`: the database /48');
  });

  await t.test('asn decides with the ASN network prefix; a missed asn rule combines both databases', async () => {
    const aaisp = await ask(v4, 'isp', 'A', '81.2.69.0/24');
    assert.deepEqual(aaisp.addresses, [poolA('aaisp')]);
    assert.equal(aaisp.ecs?.scope, 16, 'AS20712 is 81.2.0.0/16');
    // www has asn rules but none for AS20712: location decides, at the longer of the two prefixes.
    const london = await ask(v4, 'www', 'A', '81.2.69.0/24');
    assert.deepEqual(london.addresses, [poolA('london')]);
    assert.equal(london.ecs?.scope, 25);
  });

  await t.test('static records, NXDOMAIN and NODATA do not depend on location: scope 0', async () => {
    for (const subnet of ['81.2.69.0/24', '2001:db8:ca::/48']) {
      const staticA = await query(v4, 'static.example.test', 'A', { edns: { clientSubnet: subnet } });
      assert.equal(staticA.rcodeName, 'NOERROR');
      assert.deepEqual(staticA.answer.map((r) => r.data), ['192.0.2.200']);
      assert.equal(staticA.opt?.ecs?.scope, 0, `static A for ${subnet}`);
      const nx = await query(v4, 'nope.example.test', 'A', { edns: { clientSubnet: subnet } });
      assert.equal(nx.rcodeName, 'NXDOMAIN');
      assert.equal(nx.opt?.ecs?.scope, 0, `NXDOMAIN for ${subnet}`);
      assert.equal(nx.opt?.ecs?.source, Number(subnet.split('/')[1]));
      const nodata = await query(v4, 'www.example.test', 'TXT', { edns: { clientSubnet: subnet } });
      assert.equal(nodata.rcodeName, 'NOERROR');
      assert.equal(nodata.answer.length, 0);
      assert.equal(nodata.opt?.ecs?.scope, 0, `NODATA for ${subnet}`);
    }
  });

  await t.test('a CNAME to a geo name carries the target decision and its scope', async () => {
    const alias = await ask(v4, 'alias', 'A', '81.2.69.0/24');
    assert.deepEqual(alias.response.answer.map((r) => `${r.type} ${r.data}`), ['CNAME www.example.test.', `A ${poolA('london')}`]);
    assert.equal(alias.ecs?.scope, 25);
  });
});

test('source prefix 0: answered for the resolver’s own address, scope 0', async (t) => {
  const server = await cityServer(t);
  // 127.0.0.1 / ::1 are misses: the default, whatever the option's family.
  for (const [listener, subnet] of [
    [server.v4, '0.0.0.0/0'],
    [server.v4, '::/0'],
    [server.v6, '::/0'],
    [server.v6, '0.0.0.0/0'],
  ] as const) {
    const www = await ask(listener, 'www', 'A', subnet);
    assert.deepEqual(www.addresses, [poolA('fallback')], `${subnet} via ${listener.host}`);
    assert.equal(www.ecs?.source, 0);
    assert.equal(www.ecs?.scope, 0, `${subnet} via ${listener.host}`);
    // `lo` routes the loopback resolver to the office: proof that the source address decided.
    const lo = await ask(listener, 'lo', 'A', subnet);
    assert.deepEqual(lo.addresses, [poolA('office')], `lo: ${subnet} via ${listener.host}`);
    assert.equal(lo.ecs?.scope, 0, 'a source-0 answer is never tailored, even when a network rule decided');
  }
});

test('ECS over TCP gives the same answer and scope as over UDP', async (t) => {
  const server = await cityServer(t);
  for (const [type, subnet, pool, scope] of [
    ['A', '81.2.69.0/24', 'london', 25],
    ['AAAA', '2001:db8:ca::/48', 'california', 48],
    ['A', '198.51.100.128/25', 'office', 25],
    ['A', '0.0.0.0/0', 'fallback', 0],
  ] as const) {
    for (const listener of [server.v4, server.v6]) {
      const udp = await ask(listener, 'www', type, subnet);
      const tcp = await ask(listener, 'www', type, subnet, { tcp: true });
      const expected = type === 'A' ? poolA(pool) : poolAAAA(pool);
      assert.deepEqual(tcp.addresses, [expected], `TCP ${subnet} via ${listener.host}`);
      assert.deepEqual(udp.addresses, tcp.addresses);
      assert.deepEqual(tcp.ecs, udp.ecs);
      assert.equal(tcp.ecs?.scope, scope);
    }
  }
});

test('dig +subnet sees the tailored answer and the scope (UDP and TCP, IPv4 and IPv6 subnets)', async (t) => {
  const server = await cityServer(t);
  const cases: Array<{ args: string[]; subnet: string; record: string }> = [
    { args: ['+subnet=81.2.69.0/24', 'www.example.test', 'A'], subnet: '81.2.69.0/24/25', record: `A\t${poolA('london')}` },
    { args: ['+subnet=90.0.0.0/16', 'www.example.test', 'A'], subnet: '90.0.0.0/16/16', record: `A\t${poolA('orange')}` },
    { args: ['+tcp', '+subnet=2001:db8:ca::/48', 'www.example.test', 'AAAA'], subnet: '2001:db8:ca::/48/48', record: `AAAA\t${poolAAAA('california')}` },
    { args: ['+subnet=10.1.2.0/24', 'www.example.test', 'A'], subnet: '10.1.2.0/24/2', record: `A\t${poolA('fallback')}` },
    { args: ['+subnet=0', 'lo.example.test', 'A'], subnet: '0.0.0.0/0/0', record: `A\t${poolA('office')}` },
    { args: ['+subnet=81.2.69.0/24', 'static.example.test', 'A'], subnet: '81.2.69.0/24/0', record: 'A\t192.0.2.200' },
  ];
  const outputs = await Promise.all(cases.map((c) => dig(server.v4, ['+norec', ...c.args])));
  cases.forEach((c, i) => {
    const out = outputs[i]!;
    assert.match(out, /status: NOERROR/, c.args.join(' '));
    assert.ok(out.includes(`; CLIENT-SUBNET: ${c.subnet}\n`), `dig ${c.args.join(' ')} shows CLIENT-SUBNET ${c.subnet}:\n${out}`);
    assert.ok(out.includes(`\tIN\t${c.record}\n`), `dig ${c.args.join(' ')} answers ${c.record}:\n${out}`);
  });
});

test('a malformed ECS option gets FORMERR (UDP and TCP), and the server keeps answering', async (t) => {
  const server = await cityServer(t);
  const ecs = (bytes: number[]): Buffer => Buffer.from(bytes);
  const malformed: Array<[string, Buffer[]]> = [
    ['unknown family 3', [ecs([0, 3, 24, 0, 81, 2, 69])]],
    ['family 0', [ecs([0, 0, 0, 0])]],
    ['IPv4 source prefix 33', [ecs([0, 1, 33, 0, 81, 2, 69, 0, 0])]],
    ['IPv6 source prefix 129', [ecs([0, 2, 129, 0, ...new Array<number>(17).fill(0)])]],
    ['scope prefix not 0 in a query', [ecsOptionData('81.2.69.0/24', 24)]],
    ['IPv6 scope prefix not 0 in a query', [ecsOptionData('2001:db8:ca::/48', 1)]],
    ['address longer than ceil(source/8)', [ecs([0, 1, 24, 0, 81, 2, 69, 0])]],
    ['address shorter than ceil(source/8)', [ecs([0, 1, 24, 0, 81, 2])]],
    ['an address with source prefix 0', [ecs([0, 1, 0, 0, 0])]],
    ['non-zero bits beyond the source prefix (/20 of 81.2.69)', [ecs([0, 1, 20, 0, 81, 2, 69])]],
    ['non-zero bits beyond the source prefix (IPv6 /47)', [ecs([0, 2, 47, 0, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xcb])]],
    ['option shorter than its fixed part', [ecs([0, 1, 24])]],
    ['two ECS options', [ecsOptionData('81.2.69.0/24'), ecsOptionData('90.0.0.0/16')]],
  ];
  const message = (data: Buffer[]): Buffer =>
    buildQuery({ name: 'www.example.test', type: 'A', edns: { options: data.map((d) => ({ code: EDNS_ECS, data: d })) } });
  for (const [why, data] of malformed) {
    await t.test(why, async () => {
      for (const listener of [server.v4, server.v6] as Address[]) {
        const udp = parseResponse(await sendUdp(listener, message(data)));
        assert.equal(udp.rcodeName, 'FORMERR', `UDP via ${listener.host}`);
        assert.equal(udp.answer.length, 0);
        const [raw] = await sendTcp(listener, [message(data)]);
        assert.equal(parseResponse(raw!).rcodeName, 'FORMERR', `TCP via ${listener.host}`);
      }
    });
  }
  // Well-formed edge cases are accepted: a full /32 and /128, and /0 with no address.
  for (const subnet of ['81.2.69.10/32', '2001:db8:ca::7/128', '0.0.0.0/0', '::/0']) {
    const ok = await ask(server.v4, 'www', 'A', subnet);
    assert.equal(ok.rcode, 'NOERROR', subnet);
  }
  const after = await ask(server.v4, 'www', 'A', '81.2.69.0/24');
  assert.deepEqual(after.addresses, [poolA('london')]);
});
