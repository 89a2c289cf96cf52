/**
 * Malformed and unusual requests, each sent to Meridian and to Knot (the peer is the oracle for
 * wire behaviour): the response code must be the same, and a response must come from both or
 * from neither. Left out, because Meridian knowingly answers otherwise (src/wire/decode-query.test.ts
 * pins its answers): a malformed question or QDCOUNT ≠ 1 (Knot stays silent; Meridian sends
 * FORMERR with the ID, RFC 1035 §4.1.1), NOTIFY (Knot, a secondary server too, says NOTAUTH;
 * Meridian has nothing to notify: NOTIMP), an OPT not owned by the root, qtype OPT and malformed
 * Client Subnet options (Knot ignores them, having no ECS support configured; Meridian follows
 * RFC 6891 §6.1.2 and RFC 7871 §7.1.1: FORMERR).
 *
 * Regression (issue 12): a query signed with TSIG. Meridian has no keys, so every key is unknown:
 * NOTAUTH with the TSIG echoed, error BADKEY and no MAC (RFC 8945 §5.2.2), byte for byte what Knot
 * answers to the same packet. A name outside the zones is REFUSED first, as Knot orders the checks.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKnot, type PeerServer } from '../difftest/peer-servers.js';
import { buildQuery, encodeName, encodeOpt, parseResponse, sendUdpMaybe, type Address } from '../support/dns-client.js';
import { dig, startCoreServer } from '../support/e2e.js';
import { PEER_ZONE_MASTER as MASTER, PEER_ZONE_YAML as YAML } from '../support/peer-zone.js';
import type { TestServer } from '../support/start-test-server.js';

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

// ---- TSIG with a key the server does not have ----

/** A TSIG record (RFC 8945 §4.2) for `key` with an hmac-sha256 MAC of 32 bytes that no key made. */
function tsigRecord(key: string, originalId: number): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUIntBE(1_700_000_000, 0, 6); // Time Signed
  fixed.writeUInt16BE(300, 6); // Fudge
  fixed.writeUInt16BE(32, 8); // MAC Size
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(originalId, 0);
  const rdata = Buffer.concat([encodeName('hmac-sha256'), fixed, Buffer.alloc(32, 0xa5), tail]);
  const head = Buffer.alloc(10);
  head.writeUInt16BE(250, 0); // TSIG
  head.writeUInt16BE(255, 2); // class ANY
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([encodeName(key), head, rdata]);
}

/** A query with `records` appended to its additional section. */
function signed(query: Buffer, ...records: Buffer[]): Buffer {
  const packet = Buffer.concat([query, ...records]);
  packet.writeUInt16BE(query.readUInt16BE(10) + records.length, 10);
  return packet;
}

const ID = 0x5150;
const TSIG_CASES: [string, Buffer][] = [
  ['a name in the zone', signed(buildQuery({ id: ID, name: 'www.peer.test', type: 'A' }), tsigRecord('nokey.example', ID))],
  ['with EDNS and DO', signed(buildQuery({ id: ID, name: 'www.peer.test', type: 'A', edns: { do: true } }), tsigRecord('nokey.example', ID))],
  ['with RD set and a mixed-case key name', signed(buildQuery({ id: ID, name: 'WwW.Peer.Test', type: 'AAAA', flags: { rd: true } }), tsigRecord('Key.Example', ID))],
  ['a name that does not exist', signed(buildQuery({ id: ID, name: 'nope.peer.test', type: 'A' }), tsigRecord('nokey.example', ID))],
  ['an Original ID unlike the message ID', signed(buildQuery({ id: ID, name: 'www.peer.test', type: 'A' }), tsigRecord('nokey.example', 0x0102))],
  ['a name outside the zones (REFUSED first)', signed(buildQuery({ id: ID, name: 'www.elsewhere.test', type: 'A' }), tsigRecord('nokey.example', ID))],
];

async function reply(address: Address, packet: Buffer): Promise<string> {
  const answer = await sendUdpMaybe(address, packet, 1500);
  return answer === null ? 'no reply' : answer.toString('hex');
}

for (const [label, packet] of TSIG_CASES) {
  test(`TSIG with an unknown key, ${label}: the bytes Knot sends`, async () => {
    const [ours, theirs] = await Promise.all([reply(meridian.v4, packet), reply(knot.address, packet)]);
    assert.equal(ours, theirs);
  });
}

test('TSIG with an unknown key: NOTAUTH, the TSIG echoed with error BADKEY and no MAC', async () => {
  const answer = await sendUdpMaybe(meridian.v4, TSIG_CASES[0]![1], 1500);
  assert.ok(answer);
  const message = parseResponse(answer);
  assert.equal(message.rcodeName, 'NOTAUTH');
  assert.deepEqual(message.answer, []);
  assert.equal(message.flags.aa, false);
  const tsig = message.additional.at(-1);
  assert.equal(tsig?.type, 'TSIG');
  assert.equal(tsig?.name, 'nokey.example.');
  // RDATA tail: MAC Size 0, Original ID, Error 17 (BADKEY), Other Len 0.
  assert.ok(answer.subarray(-8).equals(Buffer.from([0, 0, ID >> 8, ID & 0xff, 0, 17, 0, 0])));
});

test('a TSIG that is not the last record gets the response code Knot gives', async () => {
  const packet = signed(buildQuery({ id: ID, name: 'www.peer.test', type: 'A' }), tsigRecord('nokey.example', ID), Buffer.from([0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]));
  const [ours, theirs] = await Promise.all([sendUdpMaybe(meridian.v4, packet, 1500), sendUdpMaybe(knot.address, packet, 1500)]);
  assert.equal(ours === null ? 'no reply' : parseResponse(ours).rcodeName, theirs === null ? 'no reply' : parseResponse(theirs).rcodeName);
});

test('dig -y with a key Meridian does not have reads NOTAUTH and BADKEY', async () => {
  const out = await dig(meridian.v4, ['www.peer.test', 'A', '+norec', '-y', 'hmac-sha256:nokey.example:c2VjcmV0c2VjcmV0c2VjcmV0']);
  assert.match(out, /status: NOTAUTH/);
  assert.match(out, /BADKEY/);
});
