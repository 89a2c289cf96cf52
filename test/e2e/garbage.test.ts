/**
 * Nothing a client sends can crash the server or stop it answering others. Exact checks for
 * the malformed shapes that have a defined answer (FORMERR when the header can be read,
 * silence when it cannot), then a bounded flood of random and mutated packets over UDP and
 * TCP (bounded by count and by time), after which normal queries must still be answered.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import {
  buildQuery,
  EDNS_ECS,
  encodeOpt,
  formatSection,
  frame,
  parseResponse,
  query,
  sendUdp,
  sendUdpMaybe,
  sortedLines,
  TcpConnection,
  type Address,
} from '../support/dns-client.js';
import { contractZone, sleep, startCoreServer, waitFor } from '../support/e2e.js';
import type { TestServer } from '../support/start-test-server.js';

/** The question name of a well-formed reply, or null (replies to garbage may have none). */
function sentinelQuestion(reply: Buffer): string | null {
  try {
    return parseResponse(reply).question[0]?.name ?? null;
  } catch {
    return null;
  }
}

/** Hard stop for the whole flood, whatever the counts say. */
const TIME_LIMIT_MS = 20_000;

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const SEED = Number(process.env.GARBAGE_SEED ?? 20261123);
const random = seeded(SEED);
const randomInt = (n: number): number => Math.floor(random() * n);
const randomBytes = (length: number): Buffer => Buffer.from(Array.from({ length }, () => randomInt(256)));

let server: TestServer;
let udp: Address;

before(async () => {
  server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() }, nsid: 'garbage-test' });
  udp = server.v4;
});
after(() => server.close());

const VALID = buildQuery({
  id: 0x5151,
  name: 'www.example.test',
  type: 'A',
  flags: { rd: true },
  edns: { udpSize: 4096, do: true, nsid: true, clientSubnet: '192.0.2.0/24', options: [{ code: 65001, data: Buffer.from('xyz') }] },
});

async function assertStillAnswering(): Promise<void> {
  const res = await query(udp, 'static.example.test', 'A', { timeoutMs: 2000 });
  assert.equal(res.rcodeName, 'NOERROR');
  assert.deepEqual(sortedLines(res.answer), ['static.example.test. 60 IN A 192.0.2.10', 'static.example.test. 60 IN A 192.0.2.11', 'static.example.test. 60 IN A 192.0.2.12']);
  const tcp = await query(udp, 'example.test', 'MX', { tcp: true, timeoutMs: 2000 });
  assert.deepEqual(formatSection(tcp.answer), ['example.test. 300 IN MX 10 mail.example.test.']);
  const v6 = await query(server.v6, 'mail.example.test', 'A', { timeoutMs: 2000 });
  assert.deepEqual(formatSection(v6.answer), ['mail.example.test. 300 IN A 192.0.2.25']);
}

test('the valid query used for mutations is answered', async () => {
  const res = parseResponse(await sendUdp(udp, VALID));
  assert.equal(res.rcodeName, 'NOERROR');
  assert.equal(res.answer.length, 2);
  assert.equal(res.opt?.nsid, 'garbage-test');
});

test('truncated at every length: silence below 12 bytes, FORMERR with the ID from 12 on', async () => {
  const replies = await Promise.all(
    Array.from({ length: VALID.length }, (_, cut) => sendUdpMaybe(udp, VALID.subarray(0, cut), cut < 12 ? 300 : 2000)),
  );
  replies.forEach((reply, cut) => {
    if (cut < 12) assert.equal(reply, null, `cut at ${cut}: no reply`);
    else {
      assert.ok(reply, `cut at ${cut}: a reply`);
      const res = parseResponse(reply);
      assert.equal(res.id, 0x5151, `cut at ${cut}`);
      assert.equal(res.rcodeName, 'FORMERR', `cut at ${cut}`);
      assert.deepEqual(res.answer, [], `cut at ${cut}`);
    }
  });
});

test('bogus counts (0xffff in each count field) get FORMERR', async () => {
  for (const offset of [4, 6, 8, 10]) {
    const packet = Buffer.from(VALID);
    packet.writeUInt16BE(0xffff, offset);
    const res = parseResponse(await sendUdp(udp, packet));
    assert.equal(res.rcodeName, 'FORMERR', `count at byte ${offset}`);
  }
  // A header claiming everything and carrying nothing.
  const empty = Buffer.from('0001 0000 ffff ffff ffff ffff'.replace(/ /g, ''), 'hex');
  assert.equal(parseResponse(await sendUdp(udp, empty)).rcodeName, 'FORMERR');
});

test('compression pointer loops and bad label types in the question get FORMERR', async () => {
  const header = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const questions = [
    [0xc0, 0x0c, 0, 1, 0, 1], // points at itself
    [1, 0x61, 0xc0, 0x0c, 0, 1, 0, 1], // label, then back to the start
    [1, 0x61, 0xc0, 0x0e, 0, 1, 0, 1], // points at its own pointer
    [0xc0, 0xff, 0, 1, 0, 1], // points past the end
    [0x40, 0x61, 0, 0, 1, 0, 1], // extended label type 0x40
    [0x80, 0x61, 0, 0, 1, 0, 1], // reserved label type 0x80
  ];
  for (const bytes of questions) {
    const res = parseResponse(await sendUdp(udp, Buffer.concat([header, Buffer.from(bytes)])));
    assert.equal(res.rcodeName, 'FORMERR', Buffer.from(bytes).toString('hex'));
  }
});

test('OPT options with overrunning lengths get FORMERR', async () => {
  const base = buildQuery({ id: 3, name: 'www.example.test', type: 'A', arcount: 1 });
  for (const declared of [1, 4, 100, 0xffff]) {
    const option = Buffer.from([0, 8, (declared >> 8) & 0xff, declared & 0xff, 0, 1]);
    const opt = Buffer.concat([Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, option.length]), option]);
    const res = parseResponse(await sendUdp(udp, Buffer.concat([base, opt])));
    assert.equal(res.rcodeName, 'FORMERR', `option length ${declared}`);
  }
});

test('malformed ECS options (bad family, scope ≠ 0, wrong address length, bits beyond the prefix) get FORMERR', async () => {
  const cases: Buffer[] = [];
  const ecs = (family: number, source: number, scope: number, address: number[]): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(family, 0);
    head[2] = source;
    head[3] = scope;
    return Buffer.concat([head, Buffer.from(address)]);
  };
  for (let i = 0; i < 40; i++) cases.push(ecs(3 + randomInt(0xfffc), 24, 0, [192, 0, 2])); // bad family
  for (let i = 0; i < 40; i++) cases.push(ecs(1, 24, 1 + randomInt(255), [192, 0, 2])); // scope ≠ 0
  for (let i = 0; i < 40; i++) {
    const source = randomInt(33);
    const right = Math.ceil(source / 8);
    let wrong = randomInt(6);
    if (wrong === right) wrong = right + 1;
    cases.push(ecs(1, source, 0, Array.from({ length: wrong }, () => 0))); // wrong length
  }
  for (let i = 0; i < 40; i++) {
    const source = 1 + randomInt(31);
    if (source % 8 === 0) continue;
    const length = Math.ceil(source / 8);
    const address = Array.from({ length }, () => 0);
    address[length - 1] = 0xff >> source % 8; // only bits beyond the prefix
    cases.push(ecs(1, source, 0, address));
  }
  for (let i = 0; i < 20; i++) cases.push(ecs(2, 129 + randomInt(127), 0, [])); // IPv6 source > 128
  for (const data of cases) {
    const res = await query(udp, 'www.example.test', 'A', { edns: { options: [{ code: EDNS_ECS, data }] } });
    assert.equal(res.rcodeName, 'FORMERR', data.toString('hex'));
  }
});

test(`a bounded flood of random and mutated packets over UDP and TCP (seed ${SEED}), then normal answers`, async (t) => {
  const started = Date.now();
  const timeLeft = (): boolean => Date.now() - started < TIME_LIMIT_MS;

  // ---- UDP: 5,000 random packets, 3,000 mutated valid queries, 500 random responses (QR=1) ----
  // The server answers from this process's own loop, a batch at a time: a roomy receive buffer keeps
  // a burst of answers from overflowing it while the loop is busy (as far as net.core.rmem_max allows).
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  // Closed however the test ends: an open socket would keep the file's process, and the run, alive.
  let socketOpen = true;
  const closeSocket = (): void => {
    if (socketOpen) socket.close();
    socketOpen = false;
  };
  t.after(closeSocket);
  const replies: Buffer[] = [];
  // A valid query sent after a batch comes back after every answer to the batch (one socket each
  // side, loopback keeps their order, the server answers in order): waiting for it is waiting for
  // the batch's last answer, however long a loaded machine takes. UDP may still drop an answer where
  // a receive buffer overflowed, the sentinel's included: a new sentinel goes out each second until
  // one comes back (each is sent after the whole batch, so any of them marks its end).
  const SENTINEL = /^sentinel-\d+$/;
  let sentinelsSent = 0;
  const sentinelsBack = new Set<number>();
  socket.on('message', (reply) => {
    const question = sentinelQuestion(reply);
    if (question !== null && SENTINEL.test(question.split('.')[0]!)) sentinelsBack.add(Number(question.slice('sentinel-'.length).split('.')[0]));
    else replies.push(reply);
  });
  const allAnswered = async (): Promise<void> => {
    const first = sentinelsSent + 1;
    let lastSent = 0;
    await waitFor(`an answer to sentinels from ${first}`, async () => {
      for (let n = first; n <= sentinelsSent; n++) if (sentinelsBack.has(n)) return true;
      if (Date.now() - lastSent < 1000) return false;
      lastSent = Date.now();
      const probe = buildQuery({ name: `sentinel-${++sentinelsSent}.example.test`, type: 'A' });
      await new Promise<void>((resolve) => socket.send(probe, udp.port, udp.host, () => resolve()));
      return false;
    }, 10_000, 5);
  };
  const sendAll = async (packets: Buffer[]): Promise<void> => {
    for (let i = 0; i < packets.length && timeLeft(); i += 100) {
      await Promise.all(
        packets.slice(i, i + 100).map((packet) => new Promise<void>((resolve) => socket.send(packet, udp.port, udp.host, () => resolve()))),
      );
      await sleep(1); // let the server keep up; drops would hide nothing, but keep the count honest
    }
  };

  const randomPackets = Array.from({ length: 5000 }, () => {
    const packet = randomBytes(randomInt(601));
    if (packet.length > 2) packet[2]! &= 0x7f; // QR=0, so most of these are read rather than dropped
    return packet;
  });
  const mutated = Array.from({ length: 3000 }, () => {
    const packet = Buffer.from(VALID);
    const flips = 1 + randomInt(4);
    for (let i = 0; i < flips; i++) packet[12 + randomInt(packet.length - 12)] = randomInt(256);
    if (random() < 0.3) return packet.subarray(0, 12 + randomInt(packet.length - 12));
    return packet;
  });
  await sendAll(randomPackets);
  await sendAll(mutated);
  await allAnswered();
  const answeredBeforeResponses = replies.length;
  const droppedBefore = server.running.counters.query.droppedResponses;

  const responses = Array.from({ length: 500 }, () => {
    const packet = randomBytes(12 + randomInt(500));
    packet[2]! |= 0x80; // QR=1: must never be answered
    return packet;
  });
  await sendAll(responses);
  await allAnswered();
  closeSocket();
  assert.equal(replies.length, answeredBeforeResponses, 'no reply to any QR=1 packet');
  assert.equal(server.running.counters.query.droppedResponses - droppedBefore, responses.length, 'every QR=1 packet dropped as a response');
  assert.ok(replies.length > 1000, `${replies.length} replies to 8,000 packets`);
  for (const reply of replies) {
    // Every reply is a well-formed response (the strict parser throws otherwise).
    const res = parseResponse(reply);
    assert.equal(res.flags.qr, true);
    assert.ok(['NOERROR', 'FORMERR', 'NOTIMP', 'REFUSED', 'NXDOMAIN', 'BADVERS'].includes(res.rcodeName), res.rcodeName);
  }
  await assertStillAnswering();

  // ---- TCP: 200 connections of random frames, random bytes and mutated queries, 4 at a time ----
  let connections = 0;
  const oneConnection = async (): Promise<void> => {
    const connection = await TcpConnection.open(udp);
    try {
      const parts: Buffer[] = [];
      const count = 1 + randomInt(10);
      for (let i = 0; i < count; i++) {
        const kind = randomInt(4);
        if (kind === 0) parts.push(frame(randomBytes(randomInt(300)))); // a framed random message
        else if (kind === 1) parts.push(randomBytes(1 + randomInt(100))); // bytes without framing
        else if (kind === 2) parts.push(frame(mutated[randomInt(mutated.length)]!)); // a mutated query
        else parts.push(frame(VALID)); // a good one among the bad
      }
      await connection.write(Buffer.concat(parts)).catch(() => undefined);
      // Read whatever comes back for a moment, then hang up (or the server already did).
      await connection.closesWithin(50);
      for (const chunk of connection.received) assert.ok(chunk.length > 0);
    } finally {
      connection.close();
    }
  };
  const workers = Array.from({ length: 4 }, async () => {
    while (connections < 200 && timeLeft()) {
      connections++;
      await oneConnection();
    }
  });
  await Promise.all(workers);
  assert.ok(timeLeft(), `the flood ran past ${TIME_LIMIT_MS} ms`);

  // ---- afterwards ----
  await assertStillAnswering();
  const counters = server.running.counters;
  assert.equal(counters.listener.handlerErrors, 0, 'no handler threw');
  assert.equal(counters.query.servfailFromErrors, 0, 'no answer path threw');
});
