import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { SocketAddress } from 'node:net';
import { addressBytes } from './address-text.js';
import { PeerTexts } from './peer-text.js';

/** What dgram says of a sender at this address: libuv's inet_ntop, which makes `rinfo.address` too. */
function dgramText(address: string): string {
  return new SocketAddress({ address, family: address.includes(':') ? 'ipv6' : 'ipv4' }).address;
}

/** The batched path's text for the address, asked twice: as first seen, and as remembered. */
function batchedTexts(peers: PeerTexts, address: string): [string, string] {
  const bytes = addressBytes(address);
  const family = bytes.length === 4 ? 4 : 6;
  // At an offset, as the module's address buffer holds a batch's senders one after another.
  const slots = Buffer.alloc(48);
  bytes.copy(slots, 16);
  return [peers.text(slots, 16, family), peers.text(slots, 16, family)];
}

test('a sender reads as the text dgram gives: RFC 5952, IPv4-mapped and IPv4-compatible dotted, lower case', () => {
  const peers = new PeerTexts();
  const addresses = [
    '::1',
    '::ffff:192.0.2.1',
    '0:0:0:0:0:ffff:7f00:1',
    '::ffff:0:0',
    '::',
    '::2:3',
    '::1:0',
    '::ffff',
    '2001:db8::1',
    '2001:DB8:0:0:1:0:0:1',
    '1:0:0:1:0:0:0:1',
    '2001:0:0:1::',
    'fe80::1',
    '64:ff9b::192.0.2.33',
    'abcd:ef01:2345:6789:abcd:ef01:2345:6789',
    '192.0.2.1',
    '0.0.0.0',
    '255.255.255.255',
  ];
  for (const address of addresses) {
    const expected = dgramText(address);
    assert.deepEqual(batchedTexts(peers, address), [expected, expected], address);
  }
  assert.equal(batchedTexts(peers, '0:0:0:0:0:0:0:1')[0], '::1');
});

test('many senders, colliding in the remembered texts, each still reads as dgram gives it', () => {
  const peers = new PeerTexts();
  const bytes = Buffer.alloc(16);
  let seed = 0x2545f491;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 20_000; i++) {
    for (let w = 0; w < 4; w++) bytes.writeUInt32BE(i % 3 === 0 && w < 3 ? (w === 2 ? 0xffff : 0) : next(), 4 * w);
    const text = dgramText(peerHex(bytes));
    assert.equal(peers.text(bytes, 0, 6), text);
    // Asked again after another sender took the slot, or not.
    if (i % 7 === 0) assert.equal(peers.text(bytes, 0, 6), text);
  }
});

function peerHex(bytes: Buffer): string {
  const groups: string[] = [];
  for (let g = 0; g < 16; g += 2) groups.push(bytes.readUInt16BE(g).toString(16));
  return groups.join(':');
}

function receiveOne(socket: Socket): Promise<RemoteInfo> {
  return new Promise((resolve) => socket.once('message', (_message, remote) => resolve(remote)));
}

function bound(socket: Socket, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port: 0 }, () => resolve(socket.address().port));
  });
}

test('real datagrams: the batched text of ::1 and of an IPv4-mapped sender is rinfo.address', async () => {
  const peers = new PeerTexts();
  // IPv6 from ::1 to ::1.
  const v6 = createSocket({ type: 'udp6', ipv6Only: true });
  const v6Sender = createSocket({ type: 'udp6', ipv6Only: true });
  // A dual-stack socket bound to the mapped loopback address hears IPv4 senders as ::ffff:127.0.0.1.
  const dual = createSocket({ type: 'udp6', ipv6Only: false });
  const v4Sender = createSocket('udp4');
  try {
    const v6Port = await bound(v6, '::1');
    const dualPort = await bound(dual, '::ffff:127.0.0.1');
    const fromV6 = receiveOne(v6);
    v6Sender.send(Buffer.from('q'), v6Port, '::1');
    const fromV4 = receiveOne(dual);
    v4Sender.send(Buffer.from('q'), dualPort, '127.0.0.1');
    const [six, mapped] = [await fromV6, await fromV4];
    assert.equal(six.address, '::1');
    assert.equal(mapped.address, '::ffff:127.0.0.1');
    for (const remote of [six, mapped]) assert.deepEqual(batchedTexts(peers, remote.address), [remote.address, remote.address]);
  } finally {
    for (const socket of [v6, v6Sender, dual, v4Sender]) socket.close();
  }
});
