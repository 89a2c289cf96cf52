/**
 * Regression (issue 12): a query signed with TSIG. Meridian has no keys, so every key is unknown:
 * NOTAUTH with the TSIG echoed, error BADKEY and no MAC (RFC 8945 §5.2.2), byte for byte what Knot
 * answers to the same packet (Knot runs beside it on loopback). A name outside the zones is REFUSED
 * first, as Knot orders the checks; a TSIG that is not the last record gets Knot's response code.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKnot, type PeerServer } from '../difftest/peer-servers.js';
import { buildQuery, encodeName, parseResponse, sendUdpMaybe, type Address } from '../support/dns-client.js';
import { dig, startCoreServer } from '../support/e2e.js';
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
const CASES: [string, Buffer][] = [
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

for (const [label, packet] of CASES) {
  test(`TSIG with an unknown key, ${label}: the bytes Knot sends`, async () => {
    const [ours, theirs] = await Promise.all([reply(meridian.v4, packet), reply(knot.address, packet)]);
    assert.equal(ours, theirs);
  });
}

test('TSIG with an unknown key: NOTAUTH, the TSIG echoed with error BADKEY and no MAC', async () => {
  const answer = await sendUdpMaybe(meridian.v4, CASES[0]![1], 1500);
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
