/**
 * `--io batched`: the same answers as dgram, byte for byte, for every kind of request the query
 * path handles (one-record answers, ECS echoed, NXDOMAIN, NODATA, REFUSED, EDNS with NSID and DO,
 * FORMERR, dropped responses; round robin aside, whose order is random), from a socket read with recvmmsg and answered with sendmmsg. Where the
 * native module is not built, the server answers through dgram and says so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeQuery, loadBatchedUdp } from '../../src/wire/index.js';
import { buildQuery, sendUdp, sendUdpMaybe } from '../support/dns-client.js';
import { captureLogger } from '../support/capture-logger.js';
import { contractZone, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

const built = loadBatchedUdp() !== null;
let dgram: TestServer;
let batched: TestServer;
const log = captureLogger();

before(async () => {
  const zones = { 'example.test.yaml': contractZone() };
  dgram = await startCoreServer({ zones, io: 'dgram' });
  batched = await startCoreServer({ zones, io: 'batched', logger: log.logger });
});
after(async () => {
  await dgram.close();
  await batched.close();
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
