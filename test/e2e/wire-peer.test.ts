/**
 * Malformed and unusual requests, each sent to Meridian and to Knot (the peer is the oracle for
 * wire behaviour): the response code must be the same, and a response must come from both or
 * from neither. Left out, because Meridian knowingly answers otherwise (src/wire/decode-query.test.ts
 * pins its answers): a malformed question or QDCOUNT ≠ 1 (Knot stays silent; Meridian sends
 * FORMERR with the ID, RFC 1035 §4.1.1), NOTIFY (Knot, a secondary server too, says NOTAUTH;
 * Meridian has nothing to notify: NOTIMP), an OPT not owned by the root, qtype OPT and malformed
 * Client Subnet options (Knot ignores them, having no ECS support configured; Meridian follows
 * RFC 6891 §6.1.2 and RFC 7871 §7.1.1: FORMERR).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKnot, type PeerServer } from '../difftest/peer-servers.js';
import { buildQuery, encodeOpt, parseResponse, sendUdpMaybe, type Address } from '../support/dns-client.js';
import { startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

const YAML = `
zone: peer.test
ttl: 300
soa: { mname: ns1.peer.test, rname: hostmaster.peer.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.peer.test] }
  ns1: { A: 192.0.2.53 }
  www: { A: 192.0.2.10 }
`;
const MASTER = `$ORIGIN peer.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 900 1209600 60
@ NS ns1
ns1 A 192.0.2.53
www A 192.0.2.10
`;

let meridian: TestServer;
let knot: PeerServer;

before(async () => {
  [meridian, knot] = await Promise.all([startCoreServer({ zones: { 'peer.test.yaml': YAML } }), startKnot([{ origin: 'peer.test', masterFile: MASTER }])]);
});
after(async () => {
  await Promise.all([meridian?.close(), knot?.close()]);
});

const base = (): Buffer => buildQuery({ id: 0x7070, name: 'www.peer.test', type: 'A' });
/** The base query with records appended and its counts set. */
function withSections(an: Buffer[], ns: Buffer[], ar: Buffer[]): Buffer {
  const packet = Buffer.concat([base(), ...an, ...ns, ...ar]);
  packet.writeUInt16BE(an.length, 6);
  packet.writeUInt16BE(ns.length, 8);
  packet.writeUInt16BE(ar.length, 10);
  return packet;
}
const aRecord = (owner: number[]): Buffer => Buffer.from([...owner, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
const header = (qdcount: number, flags = 0): Buffer => Buffer.from([0x70, 0x70, flags >> 8, flags & 0xff, 0, qdcount, 0, 0, 0, 0, 0, 0]);

const CASES: [string, Buffer][] = [
  ['a plain query', base()],
  ['QDCOUNT 0', header(0)],
  ['opcode STATUS', buildQuery({ id: 0x7070, name: 'www.peer.test', type: 'A', flags: { opcode: 2 } })],
  ['a well-formed A record in the answer section', withSections([aRecord([0xc0, 0x0c])], [], [])],
  ['an OPT record in the answer section', withSections([encodeOpt({})], [], [])],
  ['an OPT record in the authority section', withSections([], [encodeOpt({})], [])],
  ['an additional record owned by a forward pointer', withSections([], [], [aRecord([0xc0, 0xf0])])],
  ['two OPT records', withSections([], [], [encodeOpt({}), encodeOpt({})])],
  ['an OPT whose RDLENGTH runs past the end', withSections([], [], [encodeOpt({ rdlength: 40 })])],
  ['an option whose length runs past RDATA', withSections([], [], [Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 6, 0xfd, 0xe9, 0, 9, 1, 2])])],
  ['EDNS version 1', withSections([], [], [encodeOpt({ version: 1 })])],
  ['unknown options and Z bits', withSections([], [], [encodeOpt({ zFlags: 0x4001, options: [{ code: 65001, data: Buffer.from('xyz') }] })])],
  ['a valid ECS option', withSections([], [], [encodeOpt({ clientSubnet: '192.0.2.0/24' })])],
  ['bytes after the last record', Buffer.concat([base(), Buffer.from([0, 0, 0])])],
];

/** The response code Meridian or Knot gives, or "no reply". */
async function rcodeFrom(address: Address, packet: Buffer): Promise<string> {
  const reply = await sendUdpMaybe(address, packet, 1500);
  return reply === null ? 'no reply' : parseResponse(reply).rcodeName;
}

test('Meridian gives the response code Knot gives to each malformed or unusual request', async () => {
  const differences: string[] = [];
  for (const [label, packet] of CASES) {
    const [ours, theirs] = await Promise.all([rcodeFrom(meridian.v4, packet), rcodeFrom(knot.address, packet)]);
    if (ours !== theirs) differences.push(`${label}: Meridian ${ours}, Knot ${theirs}`);
  }
  assert.deepEqual(differences, []);
});

