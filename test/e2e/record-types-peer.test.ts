/**
 * Every record type Meridian serves, against Knot serving the same data: one forward zone and two
 * reverse zones (in-addr.arpa, ip6.arpa), written as Meridian YAML and as RFC 1035 master files;
 * each (name, type) is asked of both, and the answers must hold the same records with byte-identical
 * RDATA (and the same owner, TTL and flags), and the same additional records (an in-zone SVCB target's
 * addresses, RFC 9460 §4.1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKnot, type PeerServer } from '../difftest/peer-servers.js';
import { encodeName } from '../../src/wire/index.js';
import { query, type Address, type ParsedResponse } from '../support/dns-client.js';
import { startTestServer } from '../support/start-test-server.js';

const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA1 = 'da39a3ee5e6b4b0d3255bfef95601890afd80709';
const ECH = 'AEX+DQBBpAAgACCm6NzGiTkdGMP6BG5YYGVyhBZcHiBvhKWtPBvkNo4hfgAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA=';

interface Zone {
  origin: string;
  yaml: string;
  master: string;
  /** Relative name and type of each RRset to compare. */
  asked: [string, string][];
}

const soa = (origin: string): { yaml: string; master: string } => ({
  yaml: `zone: ${origin}\nttl: 300\nsoa: { mname: ns1.example.net., rname: hostmaster.example.net., serial: 7 }\n`,
  master: `$ORIGIN ${origin}.\n$TTL 300\n@ IN SOA ns1.example.net. hostmaster.example.net. 7 7200 900 1209600 60\n@ IN NS ns1.example.net.\n`,
});

const FORWARD: Zone = {
  origin: 'types.peertest',
  yaml: `${soa('types.peertest').yaml}records:
  "@":
    NS: ns1.example.net.
    HTTPS: { priority: 0, target: cdn.example.net. }
  www:
    HTTPS:
      - { priority: 1, target: ".", alpn: [h3, h2], ipv4hint: [192.0.2.10, 192.0.2.11], ipv6hint: "2001:db8::10", ech: "${ECH}" }
      - { priority: 2, target: backup.example.net., alpn: h2, no-default-alpn: true, port: 8443, mandatory: [alpn, port] }
  svc: { SVCB: [{ priority: 1, target: svc.example.net., alpn: "dot", port: 853, mandatory: port }] }
  in-zone: { SVCB: [{ priority: 1, target: svc-host, alpn: h2 }, { priority: 2, target: ".", port: 8443 }] }
  svc-host: { A: 192.0.2.20, AAAA: "2001:db8::20" }
  alias-svc: { SVCB: { priority: 0, target: svc.example.net. } }
  child:
    NS: ns.example.net.
    DS:
      - { key_tag: 12345, algorithm: 13, digest_type: 2, digest: "${SHA256}" }
      - { key_tag: 54321, algorithm: 8, digest_type: 1, digest: "${SHA1.toUpperCase()}" }
  _443._tcp.www: { TLSA: [{ usage: 3, selector: 1, matching_type: 1, data: "${SHA256}" }, { usage: 2, selector: 0, matching_type: 0, data: "30820122300d06" }] }
  host: { SSHFP: [{ algorithm: 4, fingerprint_type: 2, fingerprint: "${SHA256}" }, { algorithm: 1, fingerprint_type: 1, fingerprint: "${SHA1}" }] }
  sip:
    NAPTR:
      - { order: 50, preference: 50, flags: S, service: SIP+D2U, replacement: _sip._udp.example.net. }
      - { order: 100, preference: 10, flags: U, service: E2U+sip, regexp: "!^.*$!sip:info@example.net!" }
  gen:
    TYPE65400: "\\\\# 4 0a000001"
    TYPE65401: ["\\\\# 0", "\\\\# 3 abcdef"]
`,
  master: `${soa('types.peertest').master}@ IN HTTPS 0 cdn.example.net.
www IN HTTPS 1 . alpn="h3,h2" ipv4hint=192.0.2.10,192.0.2.11 ipv6hint=2001:db8::10 ech=${ECH}
www IN HTTPS 2 backup.example.net. alpn=h2 no-default-alpn port=8443 mandatory=alpn,port
svc IN SVCB 1 svc.example.net. alpn=dot port=853 mandatory=port
alias-svc IN SVCB 0 svc.example.net.
in-zone IN SVCB 1 svc-host.types.peertest. alpn=h2
in-zone IN SVCB 2 . port=8443
svc-host IN A 192.0.2.20
svc-host IN AAAA 2001:db8::20
child IN NS ns.example.net.
child IN DS 12345 13 2 ${SHA256}
child IN DS 54321 8 1 ${SHA1}
_443._tcp.www IN TLSA 3 1 1 ${SHA256}
_443._tcp.www IN TLSA 2 0 0 30820122300d06
host IN SSHFP 4 2 ${SHA256}
host IN SSHFP 1 1 ${SHA1}
sip IN NAPTR 50 50 "S" "SIP+D2U" "" _sip._udp.example.net.
sip IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .
gen IN TYPE65400 \\# 4 0a000001
gen IN TYPE65401 \\# 0
gen IN TYPE65401 \\# 3 abcdef
`,
  asked: [
    ['@', 'HTTPS'],
    ['www', 'HTTPS'],
    ['svc', 'SVCB'],
    ['alias-svc', 'SVCB'],
    ['in-zone', 'SVCB'],
    ['child', 'DS'],
    ['_443._tcp.www', 'TLSA'],
    ['host', 'SSHFP'],
    ['sip', 'NAPTR'],
    ['gen', 'TYPE65400'],
    ['gen', 'TYPE65401'],
  ],
};

const REVERSE_V4: Zone = {
  origin: '2.0.192.in-addr.arpa',
  yaml: `${soa('2.0.192.in-addr.arpa').yaml}records:\n  "@": { NS: ns1.example.net. }\n  "10": { PTR: www.types.peertest. }\n  "53": { PTR: [ns1.example.net., dns.example.net.] }\n`,
  master: `${soa('2.0.192.in-addr.arpa').master}10 IN PTR www.types.peertest.\n53 IN PTR ns1.example.net.\n53 IN PTR dns.example.net.\n`,
  asked: [['10', 'PTR'], ['53', 'PTR']],
};

const V6_ORIGIN = '8.b.d.0.1.0.0.2.ip6.arpa';
const V6_HOST = '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0';
const REVERSE_V6: Zone = {
  origin: V6_ORIGIN,
  yaml: `${soa(V6_ORIGIN).yaml}records:\n  "@": { NS: ns1.example.net. }\n  ${V6_HOST}: { PTR: www.types.peertest. }\n`,
  master: `${soa(V6_ORIGIN).master}${V6_HOST} IN PTR www.types.peertest.\n`,
  asked: [[V6_HOST, 'PTR']],
};

const ZONES = [FORWARD, REVERSE_V4, REVERSE_V6];
let knot: PeerServer;
let meridian: Awaited<ReturnType<typeof startTestServer>>;

before(async () => {
  knot = await startKnot(ZONES.map((zone) => ({ origin: zone.origin, masterFile: zone.master })));
  meridian = await startTestServer({ zones: Object.fromEntries(ZONES.map((zone) => [`${zone.origin}.yaml`, zone.yaml])), healthDisabled: true, watchZones: false });
});

after(async () => {
  await meridian?.close();
  await knot?.close();
});

/**
 * RDATA bytes in hex. A PTR target may be compressed (RFC 1035 §4.1.4; Knot points the second
 * target of an RRset into the first), so its name is compared uncompressed; no other type here
 * may be compressed (RFC 3597 §4), so their bytes are compared as sent.
 */
function rdataHex(record: ParsedResponse['answer'][number]): string {
  return (record.type === 'PTR' ? encodeName(record.data) : record.rdata).toString('hex');
}

/** The answer as comparable lines: flags, then each record's owner, TTL, type and RDATA bytes in hex, sorted. */
async function answerOf(address: Address, name: string, type: string): Promise<string[]> {
  const reply = await query(address, name, type, { edns: { udpSize: 1232 }, timeoutMs: 3000 });
  const lines = (section: ParsedResponse['answer']): string[] => section.map((record) => `${record.name.toLowerCase()} ${record.ttl} ${record.type} ${rdataHex(record)}`).sort();
  return [`${reply.rcodeName} aa=${reply.flags.aa}`, ...lines(reply.answer), 'additional:', ...lines(reply.additional)];
}

for (const zone of ZONES) {
  for (const [relative, type] of zone.asked) {
    const name = relative === '@' ? zone.origin : `${relative}.${zone.origin}`;
    test(`${type} at ${name}: the same records as Knot, byte for byte`, async () => {
      const [ours, theirs] = await Promise.all([answerOf(meridian.v4, name, type), answerOf(knot.address, name, type)]);
      assert.ok(theirs.length > 2, `Knot has no ${type} at ${name}: ${theirs.join(' | ')}`);
      assert.deepEqual(ours, theirs);
    });
  }
}
