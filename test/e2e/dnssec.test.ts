/**
 * DNSSEC end to end: a signed zone served by the real server, its answers validated by BIND's
 * `delv` with the zone's key as trust anchor (positive, CNAME chain, NXDOMAIN, NODATA, empty
 * non-terminal, referral, DNSKEY/CDS/CDNSKEY), geo answers for two client subnets and a failover
 * before and after a member goes down checked by an RRSIG verifier of the test's own, DO=0
 * answers byte for byte as an unsigned server gives them, and a wrong anchor failing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildQuery, query, sendUdp, type ParsedResponse } from '../support/dns-client.js';
import { cliInProcess, waitFor } from '../support/e2e.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';
import { trustedKey, verifySection, type TrustedKey } from '../support/dnssec-verifier.js';

const ZONE = `
zone: signed.test
ttl: 300
soa: { mname: ns1.signed.test, rname: hostmaster.signed.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@":
    NS: [ns1.signed.test]
    MX: [{ preference: 10, exchange: mail.signed.test }]
    TXT: ["v=spf1 -all"]
  ns1: { A: 192.0.2.53 }
  mail: { A: 192.0.2.25 }
  static: { A: [192.0.2.10, 192.0.2.11, 192.0.2.12] }
  alias: { CNAME: alias2 }
  alias2: { CNAME: www }
  deep.below.ent: { TXT: ["under an empty non-terminal"] }
  sub: { NS: [ns.sub.signed.test] }
  ns.sub: { A: 192.0.2.99 }
  secure: { NS: [ns.secure.signed.test], DS: { key_tag: 12345, algorithm: 13, digest_type: 2, digest: 0bc65ab5ddf4d41fffa9991625c1e61a3ae0a1460bff2c5ca077f55de3cb4f8d } }
  ns.secure: { A: 192.0.2.98 }
  "*.wild": { A: 192.0.2.77, TXT: ["from the wildcard"] }
  to-wild: { CNAME: host.wild }
  big: { TXT: ["${'x'.repeat(200)}", "${'y'.repeat(180)}"] }
  www:
    ttl: 30
    geo:
      network: { "198.51.100.0/24": [europe] }
      default: [america]
  api:
    ttl: 30
    failover: [primary, standby]
pools:
  europe: { members: [127.0.1.1, 127.0.1.2] }
  america: { members: [127.0.4.1, 127.0.4.2, 127.0.4.3] }
  primary: { members: [127.0.5.1] }
  standby: { members: [127.0.5.2, 127.0.5.3] }
`;

let server: TestServer;
let unsigned: TestServer;
let keysDir: string;
let anchors: string;
let key: TrustedKey;
let dsFromKeygen: string;

function run(file: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

/** `delv @127.0.0.1 -p PORT -a ANCHORS +root=signed.test NAME TYPE`: its full output. */
async function delv(name: string, type: string, anchorFile = anchors): Promise<string> {
  const result = await run('delv', ['@127.0.0.1', '-p', String(server.v4.port), '-a', anchorFile, '+root=signed.test', '+tcp', name, type]);
  return result.stdout + result.stderr;
}

before(async () => {
  keysDir = await mkdtemp(join(tmpdir(), 'meridian-keys-'));
  // The commands run in this process (cliInProcess): their output and exit code are the subject, not a process's.
  const keygen = await cliInProcess(['keygen', 'signed.test', '--keys', keysDir]);
  assert.equal(keygen.code, 0, keygen.stderr);
  dsFromKeygen = keygen.stdout.trim();
  const keyFile = (await run('sh', ['-c', `ls ${keysDir}/*.key`])).stdout.trim();
  const dnskey = (await readFile(keyFile, 'utf8')).split('\n').find((line) => line.includes('DNSKEY'))!.split(/\s+DNSKEY\s+/)[1]!;
  key = trustedKey(dnskey);
  const [flags, protocol, algorithm, ...rest] = dnskey.split(/\s+/);
  anchors = join(keysDir, 'anchors.conf');
  await writeFile(anchors, `trust-anchors { signed.test. static-key ${flags} ${protocol} ${algorithm} "${rest.join('')}"; };\n`);
  [server, unsigned] = await Promise.all([
    startTestServer({ zones: { 'signed.test.yaml': ZONE }, keysDir, healthDisabled: true }),
    startTestServer({ zones: { 'signed.test.yaml': ZONE }, healthDisabled: true }),
  ]);
});
after(async () => {
  await server?.close();
  await unsigned?.close();
  await rm(keysDir, { recursive: true, force: true });
});

describe('keys on the command line', () => {
  it('meridian ds prints the DS that keygen printed; meridian check --keys names a key file it cannot use', async () => {
    const badKeys = await mkdtemp(join(tmpdir(), 'meridian-badkeys-'));
    try {
      await writeFile(join(badKeys, 'Ksigned.test.+008+00001.key'), 'signed.test. IN DNSKEY 257 3 8 AwEAAa==\n');
      await writeFile(join(badKeys, 'Ksigned.test.+008+00001.private'), 'Private-key-format: v1.3\nAlgorithm: 8 (RSASHA256)\n');
      const [ds, check] = await Promise.all([cliInProcess(['ds', 'signed.test', '--keys', keysDir]), cliInProcess(['check', server.zonesDir, '--keys', badKeys])]);
      assert.equal(ds.code, 0, ds.stderr);
      assert.equal(ds.stdout.trim(), dsFromKeygen);
      assert.match(dsFromKeygen, /^signed\.test\. IN DS \d+ 13 2 [0-9A-F]{64}$/);
      assert.equal(check.code, 1, check.stdout + check.stderr);
      assert.match(check.stdout, /Ksigned\.test\.\+008\+00001\.key: algorithm 8 is not one Meridian signs with/);
      assert.match(check.stderr, /no active key for signed\.test/);
    } finally {
      await rm(badKeys, { recursive: true, force: true });
    }
  });
});

describe('delv validates every kind of answer with the zone key as trust anchor', () => {
  const positive: [string, string][] = [
    ['signed.test', 'DNSKEY'],
    ['signed.test', 'CDS'],
    ['signed.test', 'CDNSKEY'],
    ['signed.test', 'SOA'],
    ['signed.test', 'MX'],
    ['static.signed.test', 'A'],
    ['www.signed.test', 'A'],
    ['api.signed.test', 'A'],
    ['alias.signed.test', 'A'],
    ['deep.below.ent.signed.test', 'TXT'],
    ['secure.signed.test', 'DS'],
    ['any.wild.signed.test', 'A'],
    ['to-wild.signed.test', 'TXT'],
  ];
  for (const [name, type] of positive) {
    it(`${name} ${type}`, async () => {
      const output = await delv(name, type);
      assert.match(output, /^; fully validated$/m, output);
    });
  }
  const negative: [string, string, string][] = [
    ['a name that does not exist', 'nope.signed.test', 'A'],
    ['a name below one that does not exist', 'a.b.nope.signed.test', 'AAAA'],
    ['NODATA', 'static.signed.test', 'TXT'],
    ['NODATA at a routed name', 'www.signed.test', 'AAAA'],
    ['an empty non-terminal', 'below.ent.signed.test', 'A'],
    ['DS at a cut that has none', 'sub.signed.test', 'DS'],
    ['NODATA at a name a wildcard answers for', 'other.wild.signed.test', 'MX'],
  ];
  for (const [what, name, type] of negative) {
    it(what, async () => {
      const output = await delv(name, type);
      assert.match(output, /^; negative response, fully validated$/m, output);
    });
  }

  it('a CNAME chain into a name without that type: the CNAMEs validate, then the signed denial', async () => {
    const output = await delv('alias.signed.test', 'MX');
    assert.match(output, /^; fully validated$/m, output);
    assert.match(output, /^alias2\.signed\.test\.\s+300\s+IN\s+CNAME\s+www\.signed\.test\.$/m, output);
    assert.match(output, /ncache nxrrset/, output);
  });

  it('fails with a wrong key as trust anchor', async () => {
    const wrong = join(keysDir, 'wrong-anchors.conf');
    const other = (await readFile(anchors, 'utf8')).replace(/"([A-Za-z0-9+/]{8})/, (_, start: string) => `"${start.startsWith('A') ? 'B' : 'A'}${start.slice(1)}`);
    await writeFile(wrong, other);
    const output = await delv('static.signed.test', 'A', wrong);
    assert.doesNotMatch(output, /fully validated/, output);
    assert.match(output, /resolution failed|no valid signature|broken trust chain|insecurity proof failed|SERVFAIL/i, output);
  });
});

describe('the answers on the wire', () => {
  it('DO=1 to a name that does not exist: NOERROR, the SOA and one NSEC at the name with NSEC RRSIG NXNAME (RFC 9824)', async () => {
    const response = await query(server.v4, 'Nope.Signed.Test', 'A', { edns: { do: true } });
    assert.equal(response.rcodeName, 'NOERROR');
    assert.equal(response.answer.length, 0);
    const nsec = response.authority.filter((record) => record.type === 'TYPE47' || record.type === 'NSEC');
    assert.equal(nsec.length, 1);
    assert.equal(nsec[0]!.name, 'nope.signed.test.');
    // next name \000.nope.signed.test, then the bitmap: window 0, 17 bytes, NSEC(47) RRSIG(46) NXNAME(128)
    assert.equal(nsec[0]!.rdata.subarray(0, 2).toString('hex'), '0100');
    assert.deepEqual(verifySection(response.authority, key), ['nope.signed.test. NSEC', 'signed.test. SOA'].map((id) => id.replace('NSEC', nsec[0]!.type)).sort());
  });

  it('DO=0 answers are byte for byte what the unsigned server sends, for every kind of answer', async () => {
    const cases: [string, string][] = [
      ['signed.test', 'SOA'],
      ['static.signed.test', 'TXT'],
      ['nope.signed.test', 'A'],
      ['alias.signed.test', 'MX'],
      ['host.sub.signed.test', 'A'],
      ['mail.signed.test', 'A'],
      ['below.ent.signed.test', 'A'],
    ];
    for (const [name, type] of cases) {
      for (const edns of [false, { udpSize: 1232 }] as const) {
        const message = buildQuery({ id: 4242, name, type, edns });
        const [signedReply, unsignedReply] = await Promise.all([sendUdp(server.v4, message), sendUdp(unsigned.v4, message)]);
        assert.equal(signedReply.toString('hex'), unsignedReply.toString('hex'), `${name} ${type} edns=${String(edns !== false)}`);
      }
    }
  });

  it('geo answers for two client subnets each carry a valid RRSIG over their own member set', async () => {
    const europe = await query(server.v4, 'www.signed.test', 'A', { edns: { do: true, clientSubnet: '198.51.100.0/24' } });
    const america = await query(server.v4, 'www.signed.test', 'A', { edns: { do: true, clientSubnet: '203.0.113.0/24' } });
    const addresses = (response: ParsedResponse): string[] => response.answer.filter((record) => record.type === 'A').map((record) => record.data).sort();
    assert.deepEqual(addresses(europe), ['127.0.1.1', '127.0.1.2']);
    assert.deepEqual(addresses(america), ['127.0.4.1', '127.0.4.2', '127.0.4.3']);
    assert.deepEqual(verifySection(europe.answer, key), ['www.signed.test. A']);
    assert.deepEqual(verifySection(america.answer, key), ['www.signed.test. A']);
    assert.notEqual(europe.answer.find((r) => r.typeCode === 46)!.data, america.answer.find((r) => r.typeCode === 46)!.data);
  });

  it('a shuffled answer keeps one signature; a failover after a member goes down validates too', async () => {
    const first = await query(server.v4, 'api.signed.test', 'A', { edns: { do: true } });
    assert.deepEqual(first.answer.filter((r) => r.type === 'A').map((r) => r.data), ['127.0.5.1']);
    assert.deepEqual(verifySection(first.answer, key), ['api.signed.test. A']);
    const standby = await query(server.v4, 'static.signed.test', 'A', { edns: { do: true } });
    const again = await query(server.v4, 'static.signed.test', 'A', { edns: { do: true } });
    assert.equal(standby.answer.find((r) => r.typeCode === 46)!.data, again.answer.find((r) => r.typeCode === 46)!.data);

    await server.running.health.setOverride('127.0.5.1', 'down');
    try {
      const failover = await query(server.v4, 'api.signed.test', 'A', { edns: { do: true } });
      assert.deepEqual(failover.answer.filter((r) => r.type === 'A').map((r) => r.data).sort(), ['127.0.5.2', '127.0.5.3']);
      assert.deepEqual(verifySection(failover.answer, key), ['api.signed.test. A']);
      const output = await delv('api.signed.test', 'A');
      assert.match(output, /^; fully validated$/m, output);
      assert.match(output, /127\.0\.5\.2/, output);
    } finally {
      await server.running.health.setOverride('127.0.5.1', null);
    }
  });

  it('referrals: the NS with an NSEC proving no DS (insecure), or the DS and its RRSIG (secure)', async () => {
    const insecure = await query(server.v4, 'host.sub.signed.test', 'A', { edns: { do: true } });
    assert.equal(insecure.flags.aa, false);
    assert.deepEqual(insecure.authority.map((record) => `${record.name} ${record.type}`), ['sub.signed.test. NS', 'sub.signed.test. NSEC', 'sub.signed.test. RRSIG']);
    assert.deepEqual(verifySection(insecure.authority.filter((record) => record.type !== 'NS'), key), ['sub.signed.test. NSEC']);
    // next name \000.sub.signed.test, then window 0: NS (2), RRSIG (46), NSEC (47); no DS, no SOA
    const nsec = insecure.authority.find((record) => record.type === 'NSEC')!.rdata;
    assert.equal(nsec.subarray(nsec.length - 8).toString('hex'), '0006200000000003');
    const secure = await query(server.v4, 'host.secure.signed.test', 'A', { edns: { do: true } });
    assert.deepEqual(secure.authority.map((record) => `${record.name} ${record.type}`), ['secure.signed.test. NS', 'secure.signed.test. DS', 'secure.signed.test. RRSIG']);
    assert.deepEqual(verifySection(secure.authority.filter((record) => record.type !== 'NS'), key), ['secure.signed.test. DS']);
    assert.deepEqual(secure.additional.map((record) => record.data), ['192.0.2.98']);
  });

  it('an answer whose signatures do not fit the client is truncated (TC=1) and whole over TCP', async () => {
    const plain = await query(server.v4, 'big.signed.test', 'TXT', { edns: { udpSize: 512 } });
    assert.equal(plain.flags.tc, false);
    const udp = await query(server.v4, 'big.signed.test', 'TXT', { edns: { do: true, udpSize: 512 } });
    assert.equal(udp.flags.tc, true);
    assert.equal(udp.answer.length, 0);
    const tcp = await query(server.v4, 'big.signed.test', 'TXT', { edns: { do: true, udpSize: 512 }, tcp: true });
    assert.equal(tcp.flags.tc, false);
    assert.deepEqual(verifySection(tcp.answer, key), ['big.signed.test. TXT']);
  });
});

describe('the key folder is watched', () => {
  it("a zone-signing key added by BIND's dnssec-keygen signs the zone's answers without a restart, and delv still validates", async () => {
    const made = await run('dnssec-keygen', ['-q', '-K', keysDir, '-a', 'ED25519', 'signed.test']);
    assert.equal(made.code, 0, made.stderr);
    const tag = Number(made.stdout.trim().slice(-5));
    await waitFor(
      'the answers signed by the new key',
      async () => {
        const response = await query(server.v4, 'static.signed.test', 'A', { edns: { do: true } });
        const signature = response.answer.find((record) => record.typeCode === 46);
        return signature !== undefined && signature.rdata.readUInt16BE(16) === tag;
      },
      10_000,
      50,
    );
    const dnskeys = await query(server.v4, 'signed.test', 'DNSKEY', { edns: { do: true } });
    assert.equal(dnskeys.answer.filter((record) => record.type === 'DNSKEY').length, 2);
    const output = await delv('static.signed.test', 'A');
    assert.match(output, /^; fully validated$/m, output);
    const denial = await delv('gone.signed.test', 'A');
    assert.match(denial, /^; negative response, fully validated$/m, denial);
  });
});
