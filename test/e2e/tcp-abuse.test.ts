/**
 * TCP that cannot be held hostage, with real sockets: clients that send and never read cost
 * bounded memory (the server stops reading them) while UDP is still answered; a message dripped
 * a byte at a time is cut off at the message timeout; one client address holding many
 * connections leaves room for others; a connection is closed after its query limit; and a
 * connection closed for an unanswerable message first gets every answer already produced.
 * Counts are scaled to run in seconds; the limits are the ones a server runs with unless a test
 * names a shorter one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildQuery, frame, parseResponse, query, TcpConnection } from '../support/dns-client.js';
import { waitFor, startCoreServer } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

// ~16 KB over TCP: 64 TXT strings of 250 bytes.
const BIG_TXT = Array.from({ length: 64 }, (_, i) => `"${String(i).padStart(3, '0')}${'x'.repeat(247)}"`).join(', ');
const ZONE = `
zone: abuse.test
ttl: 300
soa: { mname: ns1.abuse.test, rname: hostmaster.abuse.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.abuse.test] }
  ns1: { A: 192.0.2.53 }
  www: { A: 192.0.2.10 }
  big: { TXT: [${BIG_TXT}] }
`;

const bigQuery = (id: number): Buffer => frame(buildQuery({ id, name: 'big.abuse.test', type: 'TXT' }));
const smallQuery = (id: number): Buffer => frame(buildQuery({ id, name: 'www.abuse.test', type: 'A' }));

/** A loopback source address per group of `perAddress` connections: 127.0.0.2, 127.0.0.3, … */
const sourceAddress = (index: number, perAddress: number): string => `127.0.0.${2 + Math.floor(index / perAddress)}`;

describe('clients that never read their answers', () => {
  let server: TestServer;
  const clients: TcpConnection[] = [];
  before(async () => {
    server = await startCoreServer({ zones: { 'abuse.test.yaml': ZONE } });
  });
  after(async () => {
    clients.forEach((client) => client.close());
    await server.close();
  });

  test('200 connections sending and never reading: reading stops, RSS stays within tens of MB, UDP is answered', async () => {
    const counters = server.running.counters.listener;
    const rssBefore = process.memoryUsage().rss;
    // ~6.5 MB of answers each, more than the kernel's socket buffers take (up to 4 MB on loopback).
    const QUERIES = 400;
    const sent = Buffer.concat(Array.from({ length: QUERIES }, (_, i) => bigQuery(i)));
    for (let i = 0; i < 200; i++) {
      const client = await TcpConnection.open(server.v4, 2000, sourceAddress(i, 10));
      client.socket.pause();
      clients.push(client);
      client.socket.write(sent);
    }
    await waitFor('every connection paused by backpressure', () => counters.tcpReadPauses >= 200, 20_000);
    const grownMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.ok(grownMb < 80, `RSS grew ${grownMb.toFixed(1)} MB`);
    assert.ok(counters.tcpReceived < (200 * QUERIES * 3) / 4, `the server read ${counters.tcpReceived} of ${200 * QUERIES} queries: it stopped reading`);
    assert.equal(clients.filter((client) => client.isClosed).length, 0, 'none is closed before the idle timeout');
    for (let i = 0; i < 20; i++) assert.equal((await query(server.v4, 'www.abuse.test', 'A', { timeoutMs: 1000 })).answer.length, 1);
    process.stdout.write(`# 200 never-reading connections: RSS +${grownMb.toFixed(1)} MB, ${counters.tcpReceived} of ${200 * QUERIES} queries read\n`);
  });
});

describe('per-connection and per-client limits', () => {
  let server: TestServer;
  const open: TcpConnection[] = [];
  before(async () => {
    server = await startCoreServer({ zones: { 'abuse.test.yaml': ZONE }, tcp: { messageTimeoutMs: 500, maxConnections: 30, maxQueriesPerConnection: 5 } });
  });
  after(async () => {
    open.forEach((client) => client.close());
    await server.close();
  });

  test('a message dripped one byte every 100 ms is cut off at the 500 ms message timeout', async () => {
    const counters = server.running.counters.listener;
    const timeoutsBefore = counters.tcpMessageTimeouts;
    const drip = await TcpConnection.open(server.v4);
    open.push(drip);
    const message = smallQuery(1);
    let written = 0;
    while (written < message.length && !drip.isClosed) {
      await drip.write(message.subarray(written, written + 1)).catch(() => undefined);
      written++;
      await Promise.race([drip.closed, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    assert.equal(drip.isClosed, true);
    assert.ok(written < message.length, `closed after ${written} of ${message.length} bytes`);
    assert.equal(counters.tcpMessageTimeouts - timeoutsBefore, 1);
    assert.equal(drip.received.length, 0, 'no answer');
  });

  test('one address holding many connections leaves room for others', async () => {
    const counters = server.running.counters.listener;
    const hog: TcpConnection[] = [];
    for (let i = 0; i < 30; i++) {
      const connection = await TcpConnection.open(server.v4, 2000, '127.0.0.2');
      hog.push(connection);
      open.push(connection);
    }
    await waitFor('connections past the per-client cap closed', () => hog.filter((c) => c.isClosed).length === 20, 5000);
    assert.equal(counters.tcpClientLimitRejections, 20);
    for (const [i, connection] of hog.filter((c) => !c.isClosed).entries()) {
      await connection.write(smallQuery(100 + i));
      assert.equal(parseResponse(await connection.next()).id, 100 + i, 'the first 10 are served');
    }
    for (const source of ['127.0.0.3', '127.0.0.4']) {
      const other = await TcpConnection.open(server.v4, 2000, source);
      open.push(other);
      await other.write(smallQuery(7));
      assert.equal(parseResponse(await other.next()).id, 7, `a client from ${source} is served`);
    }
  });

  test('after its query limit a connection gets its answers, then is closed', async () => {
    const counters = server.running.counters.listener;
    const connection = await TcpConnection.open(server.v4, 2000, '127.0.0.5');
    open.push(connection);
    await connection.write(Buffer.concat(Array.from({ length: 8 }, (_, i) => smallQuery(i))));
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(parseResponse(await connection.next()).id);
    assert.deepEqual(ids, [0, 1, 2, 3, 4]);
    assert.equal(await connection.closesWithin(2000), true);
    await assert.rejects(connection.next(100));
    assert.equal(counters.tcpQueryLimitCloses, 1);
  });
});

test('a connection closed for an unanswerable message first delivers every answer produced before it', async (t) => {
  const server = await startCoreServer({ zones: { 'abuse.test.yaml': ZONE } });
  t.after(() => server.close());
  const connection = await TcpConnection.open(server.v4);
  t.after(() => connection.close());
  connection.socket.pause();
  // 60 answers of ~16 KB (more than the kernel buffers hold), then a response (QR=1), which is never answered.
  const notAQuery = buildQuery({ id: 999, name: 'www.abuse.test', type: 'A' });
  notAQuery[2]! |= 0x80;
  await connection.write(Buffer.concat([...Array.from({ length: 60 }, (_, i) => bigQuery(i)), frame(notAQuery)]));
  connection.socket.resume();
  const ids = [];
  for (let i = 0; i < 60; i++) ids.push(parseResponse(await connection.next(5000)).id);
  assert.deepEqual(ids, Array.from({ length: 60 }, (_, i) => i));
  assert.equal(await connection.closesWithin(2000), true, 'then the server closes');
});
