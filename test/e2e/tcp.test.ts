/**
 * DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte framing, pipelined queries answered in
 * order, messages split across writes, an idle timeout, a connection cap, and slow or
 * half-open clients that cannot hold anyone else up.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildQuery, frame, parseResponse, query, sendTcp, TcpConnection, type Address } from '../support/dns-client.js';
import { contractZone, sleep, startCoreServer, waitFor } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

const NAMES = ['static', 'mail', 'ns1', 'ns2', 'www', 'api', 'app', 'alias', 'nope', '_udp'];

describe('framing and pipelining', () => {
  let server: TestServer;
  let address: Address;
  before(async () => {
    server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() } });
    address = server.v4;
  });
  after(() => server.close());

  test('a response is framed with its 2-byte length', async () => {
    const connection = await TcpConnection.open(address);
    try {
      await connection.send(buildQuery({ id: 5, name: 'static.example.test', type: 'A' }));
      const message = await connection.next();
      const wire = Buffer.concat(connection.received);
      assert.equal(wire.readUInt16BE(0), message.length);
      assert.equal(wire.length, 2 + message.length);
      const res = parseResponse(message);
      assert.equal(res.id, 5);
      assert.equal(res.answer.length, 3);
    } finally {
      connection.close();
    }
  });

  test('ten pipelined queries in one write are all answered, in order', async () => {
    const messages = NAMES.map((name, i) => buildQuery({ id: 1000 + i, name: `${name}.example.test`, type: 'A' }));
    const replies = (await sendTcp(address, messages)).map(parseResponse);
    assert.deepEqual(
      replies.map((r) => r.id),
      messages.map((_, i) => 1000 + i),
    );
    assert.deepEqual(
      replies.map((r) => r.question[0]?.name),
      NAMES.map((name) => `${name}.example.test.`),
    );
    assert.equal(replies[8]!.rcodeName, 'NXDOMAIN');
    assert.equal(replies[0]!.answer.length, 3);
  });

  test('a query written byte by byte is answered', async () => {
    const message = buildQuery({ id: 4242, name: 'mail.example.test', type: 'A', edns: { udpSize: 1232 } });
    const [reply] = await sendTcp(address, [message], { chunkSize: 1, pauseMs: 1, timeoutMs: 5000 });
    const res = parseResponse(reply!);
    assert.equal(res.id, 4242);
    assert.equal(res.answer[0]?.data, '192.0.2.25');
  });

  test('frames split at odd boundaries (one and a half messages per write) are reassembled', async () => {
    const messages = NAMES.slice(0, 6).map((name, i) => buildQuery({ id: 2000 + i, name: `${name}.example.test`, type: 'A' }));
    const replies = (await sendTcp(address, messages, { chunkSize: 37, pauseMs: 2 })).map(parseResponse);
    assert.deepEqual(
      replies.map((r) => r.id),
      [2000, 2001, 2002, 2003, 2004, 2005],
    );
  });

  test('many queries on one connection over time keep working', async () => {
    const connection = await TcpConnection.open(address);
    try {
      for (let i = 0; i < 50; i++) {
        await connection.send(buildQuery({ id: i, name: 'ns2.example.test', type: 'A' }));
        assert.equal(parseResponse(await connection.next()).id, i);
      }
    } finally {
      connection.close();
    }
  });

  test('a large answer over TCP is not truncated', async () => {
    const res = await query(address, 'example.test', 'NS', { tcp: true });
    assert.equal(res.flags.tc, false);
    assert.equal(res.answer.length, 2);
    assert.equal(res.additional.length, 3);
  });
});

describe('limits', () => {
  test('an idle connection is closed after the idle timeout; an active one is not', async (t) => {
    const server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, tcp: { idleTimeoutMs: 300 } });
    t.after(() => server.close());
    const idle = await TcpConnection.open(server.v4);
    const active = await TcpConnection.open(server.v4);
    t.after(() => {
      idle.close();
      active.close();
    });
    const started = Date.now();
    // Keep one connection busy every 100 ms for 800 ms: it must outlive the idle timeout.
    for (let i = 0; i < 8; i++) {
      await active.send(buildQuery({ id: i, name: 'static.example.test', type: 'A' }));
      assert.equal(parseResponse(await active.next()).id, i);
      await sleep(100);
    }
    assert.equal(idle.isClosed, true, 'the idle connection was closed');
    assert.equal(active.isClosed, false, 'the active connection is still open');
    assert.ok(Date.now() - started >= 300);
    // And the active one closes once it goes quiet.
    assert.equal(await active.closesWithin(2000), true);
  });

  test('the idle connection closes no sooner than the timeout', async (t) => {
    const server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, tcp: { idleTimeoutMs: 300 } });
    t.after(() => server.close());
    const started = Date.now();
    const idle = await TcpConnection.open(server.v4);
    t.after(() => idle.close());
    assert.equal(await idle.closesWithin(2000), true);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2000, `closed after ${elapsed} ms`);
  });

  test('the connection cap: a 4th concurrent connection is refused while 3 are open, and the 3 keep working', async (t) => {
    const server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, tcp: { maxConnections: 3, idleTimeoutMs: 10_000 } });
    t.after(() => server.close());
    const open: TcpConnection[] = [];
    t.after(() => open.forEach((c) => c.close()));
    for (let i = 0; i < 3; i++) {
      const connection = await TcpConnection.open(server.v4);
      open.push(connection);
      // A round trip proves the server has accepted it (not just the kernel).
      await connection.send(buildQuery({ id: i, name: 'static.example.test', type: 'A' }));
      assert.equal(parseResponse(await connection.next()).id, i);
    }
    const fourth = await TcpConnection.open(server.v4);
    open.push(fourth);
    await fourth.send(buildQuery({ id: 99, name: 'static.example.test', type: 'A' })).catch(() => undefined);
    assert.equal(await fourth.closesWithin(2000), true, 'the 4th connection is closed by the server');
    await assert.rejects(fourth.next(100));
    assert.ok(server.running.counters.listener.tcpConnectionsRejected >= 1);
    for (let i = 0; i < 3; i++) {
      await open[i]!.send(buildQuery({ id: 10 + i, name: 'mail.example.test', type: 'A' }));
      assert.equal(parseResponse(await open[i]!.next()).id, 10 + i, `connection ${i} still answers`);
    }
    // UDP is not affected by the TCP cap.
    assert.equal((await query(server.v4, 'static.example.test', 'A')).answer.length, 3);
    // Closing one frees a slot.
    open[0]!.close();
    await open[0]!.closed;
    let answered = false;
    for (let attempt = 0; attempt < 20 && !answered; attempt++) {
      const again = await TcpConnection.open(server.v4);
      open.push(again);
      await again.send(buildQuery({ id: 500, name: 'static.example.test', type: 'A' })).catch(() => undefined);
      answered = await again.next(500).then(
        () => true,
        () => false,
      );
      if (!answered) await sleep(50);
    }
    assert.equal(answered, true, 'a new connection is served once a slot is free');
  });

  test('a half-open client (half a frame, then silence) holds up neither UDP nor other TCP clients', async (t) => {
    const server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, tcp: { idleTimeoutMs: 5000, messageTimeoutMs: 5000 } });
    t.after(() => server.close());
    const stalled: TcpConnection[] = [];
    t.after(() => stalled.forEach((c) => c.close()));
    const message = frame(buildQuery({ id: 1, name: 'static.example.test', type: 'A' }));
    for (let i = 0; i < 5; i++) {
      const connection = await TcpConnection.open(server.v4);
      stalled.push(connection);
      await connection.write(message.subarray(0, Math.floor(message.length / 2)));
    }
    // A connection that announces a 65535-byte message and sends 10 bytes of it.
    const liar = await TcpConnection.open(server.v4);
    stalled.push(liar);
    await liar.write(Buffer.from([0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));

    const started = Date.now();
    for (let i = 0; i < 20; i++) assert.equal((await query(server.v4, 'static.example.test', 'A', { timeoutMs: 1000 })).answer.length, 3);
    for (let i = 0; i < 5; i++) assert.equal((await query(server.v4, 'mail.example.test', 'A', { tcp: true, timeoutMs: 1000 })).answer.length, 1);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1500, `25 queries took ${elapsed} ms with stalled clients around`);
    // The stalled clients got nothing and are still connected (until their idle timeout).
    assert.equal(stalled.every((c) => !c.isClosed), true);
  });

  test('a client that sends but never reads is not read either, is cut off at the idle timeout, and others are still served', async (t) => {
    const server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, tcp: { idleTimeoutMs: 500, maxQueriesPerConnection: 1_000_000 } });
    t.after(() => server.close());
    const counters = server.running.counters.listener;
    const reader = await TcpConnection.open(server.v4);
    t.after(() => reader.close());
    reader.socket.pause(); // never read
    const batch = Buffer.concat(Array.from({ length: 500 }, (_, i) => frame(buildQuery({ id: i, name: 'example.test', type: 'NS' }))));
    // Each answer is ~150 bytes: keep sending until the server stops reading this client.
    while (counters.tcpReadPauses === 0 && !reader.isClosed) {
      if (!reader.socket.write(batch)) await Promise.race([new Promise((r) => reader.socket.once('drain', r)), reader.closed, sleep(200)]);
      assert.equal((await query(server.v4, 'static.example.test', 'A', { timeoutMs: 1000 })).answer.length, 3);
    }
    assert.equal(counters.tcpReadPauses, 1, 'reading stopped');
    assert.equal((await query(server.v4, 'static.example.test', 'A', { tcp: true })).answer.length, 3, 'another TCP client is served');
    await waitFor('the idle timeout to close the connection whose answers were not read', () => counters.tcpIdleTimeouts === 1, 10_000);
    // A paused socket notices nothing; reading shows the server's close.
    reader.socket.resume();
    assert.equal(await reader.closesWithin(5000), true);
  });
});
