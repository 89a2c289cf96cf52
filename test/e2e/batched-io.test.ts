/**
 * `--io batched`: the same answers as dgram, byte for byte, for every kind of request the query
 * path handles (one-record answers, ECS echoed, NXDOMAIN, NODATA, REFUSED, EDNS with NSID and DO,
 * FORMERR, dropped responses; round robin aside, whose order is random), from a socket read with recvmmsg and answered with sendmmsg. Where the
 * native module is not built, the server answers through dgram and says so. Both servers ask for
 * their I/O explicitly, whatever the suite's default (MERIDIAN_TEST_IO); a third asks for `auto`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BatchedUdpSocket, encodeQuery, listenUdp, loadBatchedUdp, newListenerCounters, UDP_RECEIVE_BUFFER_BYTES } from '../../src/wire/index.js';
import { buildQuery, sendUdp, sendUdpMaybe } from '../support/dns-client.js';
import { captureLogger } from '../support/capture-logger.js';
import { contractZone, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

const built = loadBatchedUdp() !== null;
let dgram: TestServer;
let batched: TestServer;
let auto: TestServer;
const log = captureLogger();
const autoLog = captureLogger();

before(async () => {
  const zones = { 'example.test.yaml': contractZone() };
  dgram = await startCoreServer({ zones, io: 'dgram' });
  batched = await startCoreServer({ zones, io: 'batched', logger: log.logger });
  auto = await startCoreServer({ zones, io: 'auto', logger: autoLog.logger });
});
after(async () => {
  await dgram.close();
  await batched.close();
  await auto.close();
});

/** Requests whose answers do not depend on chance (one record, or none). */
const requests: [string, Buffer][] = [
  ['mail A', encodeQuery({ id: 1, name: 'mail.example.test', type: 'A' })],
  ['mixed-case name, RD', encodeQuery({ id: 2, name: 'MaIl.Example.TEST', type: 'A', flags: { rd: true } })],
  ['NXDOMAIN with EDNS', encodeQuery({ id: 3, name: 'nope.example.test', type: 'A', edns: {} })],
  ['NODATA', encodeQuery({ id: 4, name: 'mail.example.test', type: 'MX' })],
  ['ECS echoed', encodeQuery({ id: 5, name: 'api.example.test', type: 'A', edns: { clientSubnet: '81.2.69.0/24' } })],
  ['api failover', encodeQuery({ id: 6, name: 'api.example.test', type: 'A' })],
  ['refused', encodeQuery({ id: 7, name: 'example.org', type: 'A' })],
  ['NSID asked', encodeQuery({ id: 8, name: 'ns2.example.test', type: 'A', edns: { nsid: true, do: true } })],
  ['FORMERR: two questions', buildQuery({ id: 9, name: 'mail.example.test', type: 'A', extraQuestions: [{ name: 'x.example.test', type: 'A' }] })],
  ['alias CNAME, one target record', encodeQuery({ id: 10, name: 'alias.example.test', type: 'CNAME' })],
];

test(built ? 'batched I/O answers byte for byte as dgram does' : 'without the native module, --io batched answers through dgram', async () => {
  for (const [label, request] of requests) {
    const [viaDgram, viaBatched] = await Promise.all([sendUdp(dgram.v4, request), sendUdp(batched.v4, request)]);
    assert.deepEqual(viaBatched, viaDgram, label);
    const viaBatched6 = await sendUdp(batched.v6, request);
    assert.deepEqual(viaBatched6, viaDgram, `${label} over IPv6`);
  }
  const warned = log.lines().some((line) => /batched UDP I\/O/.test(String(line.msg ?? '')) && line.level === 40);
  assert.equal(warned, !built, built ? 'no warning when the module is built' : 'a warning that it fell back to dgram');
  if (built) {
    const stats = batched.running.batchedStats();
    assert.ok(stats.datagramsIn >= requests.length * 2, `the batched sockets read ${stats.datagramsIn} datagrams`);
  }
});

test('a response (QR=1) sent to the batched socket gets nothing back', async () => {
  const response = Buffer.from(encodeQuery({ id: 11, name: 'mail.example.test', type: 'A' }));
  response[2]! |= 0x80;
  assert.equal(await sendUdpMaybe(batched.v4, response, 300), null);
});

test(`--io auto answers through ${built ? 'the batched module, which loads here' : 'dgram: the batched module does not load here'}, says so at info level and warns of nothing`, async () => {
  const expected = built ? 'batched' : 'dgram';
  assert.equal(auto.running.sockets.io, expected);
  assert.equal(auto.running.status().io, expected, '/status says which');
  assert.equal(dgram.running.status().io, 'dgram', '--io dgram is dgram, built or not');
  assert.equal(auto.running.batchedStats().datagramsIn, 0);
  assert.deepEqual(await sendUdp(auto.v6, requests[0]![1]), await sendUdp(dgram.v4, requests[0]![1]));
  assert.equal(auto.running.batchedStats().datagramsIn > 0, built, 'the batched sockets read the query only when they answer');
  const said = autoLog.lines().filter((line) => /^UDP I\/O: /.test(String(line.msg)));
  assert.deepEqual(said.map((line) => [line.level, line.io]), [[30, expected]]);
  assert.equal(autoLog.lines().filter((line) => Number(line.level) >= 40).length, 0, 'no warning');
});

test(built ? 'a batched socket gets the receive buffer a dgram socket gets (4 MiB, up to net.core.rmem_max), and fails to bind as it does' : 'without the native module no batched socket opens', async () => {
  if (!built) {
    assert.throws(() => BatchedUdpSocket.open('127.0.0.1', 0, () => 0, newListenerCounters(), () => undefined), /not built/);
    return;
  }
  const viaDgram = await listenUdp('127.0.0.1', 0, () => 0, newListenerCounters());
  const viaBatched = BatchedUdpSocket.open('127.0.0.1', 0, () => 0, newListenerCounters(), () => undefined);
  try {
    // Linux reports twice what it granted; it grants at most net.core.rmem_max.
    const ceiling = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    assert.equal(viaBatched.receiveBufferSize(), viaDgram.getRecvBufferSize());
    assert.equal(viaBatched.receiveBufferSize() / 2, Math.min(UDP_RECEIVE_BUFFER_BYTES, ceiling));
    // A port taken fails as dgram's bind does, so the CLI words it alike ("cannot listen on …: EADDRINUSE").
    const port = viaDgram.address().port;
    assert.throws(() => BatchedUdpSocket.open('127.0.0.1', port, () => 0, newListenerCounters(), () => undefined), { code: 'EADDRINUSE', address: '127.0.0.1', port });
  } finally {
    viaDgram.close();
    viaBatched.close();
  }
});

test('the listener counters count the same traffic alike on both; a datagram over 4 KiB is received and, batched, dropped as too long', async () => {
  const counts = (server: TestServer) => ({ ...server.running.counters.listener });
  const before = { dgram: counts(dgram), batched: counts(batched) };
  for (const [, request] of requests) {
    await sendUdp(dgram.v4, request);
    await sendUdp(batched.v6, request);
  }
  const response = Buffer.from(encodeQuery({ id: 12, name: 'mail.example.test', type: 'A' }));
  response[2]! |= 0x80;
  for (const server of [dgram, batched]) assert.equal(await sendUdpMaybe(server.v4, response, 200), null);
  const moved = (now: ReturnType<typeof counts>, then: ReturnType<typeof counts>) => Object.fromEntries(Object.entries(now).map(([key, value]) => [key, value - then[key as keyof typeof then]]));
  const viaDgram = moved(counts(dgram), before.dgram);
  assert.deepEqual(moved(counts(batched), before.batched), viaDgram);
  assert.equal(viaDgram.udpReceived, requests.length + 1);
  assert.equal(viaDgram.sendErrors, 0);

  // A query followed by 5,000 bytes of padding: longer than a batched slot.
  const long = Buffer.concat([encodeQuery({ id: 13, name: 'mail.example.test', type: 'A' }), Buffer.alloc(5000)]);
  const receivedBefore = batched.running.counters.listener.udpReceived;
  assert.deepEqual(await sendUdpMaybe(batched.v4, long, 300), built ? null : await sendUdpMaybe(dgram.v4, long, 300));
  assert.equal(batched.running.counters.listener.udpReceived, receivedBefore + 1);
  assert.equal(batched.running.counters.listener.udpTooLong, built ? 1 : 0);
  if (built) assert.equal(batched.running.batchedStats().tooLong, 1);
});
