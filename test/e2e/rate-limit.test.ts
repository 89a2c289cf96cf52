/**
 * Response rate limiting end to end (`--rrl 20`): a real server on loopback, a flood of 5,000
 * UDP queries from 127.0.0.2 gets about RATE answers a second plus the slipped TC=1 replies,
 * while 127.1.0.2 (another /24) gets every answer and TCP from the flooded address is answered.
 * One log line says the prefix started being limited and one that it stopped; /metrics counts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_RATE_LIMIT } from '../../src/rate-limit/index.js';
import { captureLogger } from '../support/capture-logger.js';
import { buildQuery, EDNS_COOKIE, parseResponse, type Address } from '../support/dns-client.js';
import { waitFor } from '../support/e2e.js';
import { startTestServer } from '../support/start-test-server.js';
import { pacedFlood, tallyingClient } from '../support/udp-flood.js';

const RATE = 20;
const FLOOD = 5000;
const ZONE = `zone: flood.test
soa: { mname: ns1.flood.test, rname: h.flood.test }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  www: { A: [192.0.2.10, 192.0.2.11] }
`;

/** One query over TCP from `local`, answered in full. */
function tcpQuery(server: Address, local: string, id: number): Promise<ReturnType<typeof parseResponse>> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port, localAddress: local });
    const query = buildQuery({ id, name: 'www.flood.test', type: 'A' });
    const frame = Buffer.alloc(2 + query.length);
    frame.writeUInt16BE(query.length, 0);
    query.copy(frame, 2);
    let received = Buffer.alloc(0);
    socket.setTimeout(3000, () => socket.destroy(new Error('TCP query timed out')));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(parseResponse(received.subarray(2, 2 + received.readUInt16BE(0))));
      }
    });
  });
}

test('with --rrl 20, a flood from one /24 gets about RATE answers a second plus slips; another /24 and TCP get every answer', async (t) => {
  const { logger, lines } = captureLogger();
  const server = await startTestServer({
    zones: { 'flood.yaml': ZONE },
    rateLimit: { ...DEFAULT_RATE_LIMIT, rate: RATE, windowSeconds: 1 },
    admin: { host: '127.0.0.1', port: 0 },
    logger,
  });
  t.after(() => server.close());
  const flooder = await tallyingClient('127.0.0.2');
  const bystander = await tallyingClient('127.1.0.2');
  // A resolver in the flooded /24 that does cookies: it has a server cookie before the flood.
  const cookieResolver = await tallyingClient('127.0.0.3');
  t.after(() => {
    flooder.close();
    bystander.close();
    cookieResolver.close();
  });
  const limiter = server.running.rateLimiter!;
  const { host, port } = server.v4;
  const clientCookie = Buffer.from('c0c0c0c0c0c0c0c0', 'hex');
  const cookieQuery = (id: number, serverCookie: Buffer = Buffer.alloc(0)): Buffer =>
    buildQuery({ id, name: 'www.flood.test', type: 'A', edns: { options: [{ code: EDNS_COOKIE, data: Buffer.concat([clientCookie, serverCookie]) }] } });
  const serverCookie = await new Promise<Buffer>((resolve) => {
    cookieResolver.socket.once('message', (reply) => resolve(parseResponse(reply).opt!.options.find((o) => o.code === EDNS_COOKIE)!.data.subarray(8)));
    cookieResolver.socket.send(cookieQuery(1), port, host);
  });
  let cookieSent = 1;
  const CLIENT_ONLY_IDS = 10_000;
  const clientOnlyReplies: ReturnType<typeof parseResponse>[] = [];
  cookieResolver.socket.on('message', (reply) => {
    const message = parseResponse(reply);
    if (message.id >= CLIENT_ONLY_IDS) clientOnlyReplies.push(message);
  });

  // 5,000 queries in bursts of 50 every 20 ms (about two seconds; small enough bursts for the
  // server socket's receive buffer), a bystander query every fifth burst, TCP now and then.
  const start = performance.now();
  let bystanderSent = 0;
  const tcpAnswers: Promise<ReturnType<typeof parseResponse>>[] = [];
  await pacedFlood(flooder, server.v4, FLOOD, (i) => buildQuery({ id: i & 0xffff, name: 'www.flood.test', type: 'A' }), {
    burst: 50,
    everyMs: 20,
    between: (burst) => {
      if (burst % 5 === 0) {
        bystander.socket.send(buildQuery({ id: burst, name: 'www.flood.test', type: 'A' }), port, host);
        bystanderSent++;
        cookieResolver.socket.send(cookieQuery(burst, serverCookie), port, host);
        cookieSent++;
      }
      if (burst % 25 === 12) tcpAnswers.push(tcpQuery(server.v4, '127.0.0.2', burst));
      if (burst === 30 || burst === 50 || burst === 70) {
        cookieResolver.socket.send(cookieQuery(CLIENT_ONLY_IDS + burst), port, host);
        cookieSent++;
      }
    },
  });
  const counters = server.running.counters;
  await waitFor('every flood query handled', () => counters.listener.udpReceived >= FLOOD + bystanderSent, 5000).catch((error: Error) => {
    throw new Error(`${error.message}: ${counters.listener.udpReceived} of ${FLOOD + bystanderSent} received (the rest lost in the socket buffer)`);
  });
  const seconds = (performance.now() - start) / 1000;
  await waitFor(
    'every reply sent to arrive',
    () => flooder.answers() + flooder.slips() === FLOOD - limiter.counters.dropped && bystander.answers() === bystanderSent && cookieResolver.answers() === cookieSent,
    5000,
  );

  const answered = flooder.answers();
  t.diagnostic(`flood over ${seconds.toFixed(2)} s: ${answered} answers, ${flooder.slips()} slips, ${limiter.counters.dropped} dropped`);
  // A full bucket at the start, then RATE a second: at most RATE × (whole seconds begun + 1).
  assert.ok(answered >= RATE, `at least one bucket answered (${answered})`);
  assert.ok(answered <= RATE * (Math.ceil(seconds) + 1), `${answered} answers in ${seconds.toFixed(2)} s is over RATE a second`);
  assert.equal(limiter.counters.limited, FLOOD - answered + limiter.counters.badCookie);
  // Slip 2: every second limited response of the token is sent as TC=1.
  assert.equal(flooder.slips(), limiter.counters.slipped);
  assert.ok(Math.abs(limiter.counters.slipped - limiter.counters.dropped) <= 1, `slipped ${limiter.counters.slipped}, dropped ${limiter.counters.dropped}`);

  assert.equal(bystander.answers(), bystanderSent, 'another /24 gets every answer');
  assert.equal(cookieResolver.slips(), 0, 'a client with a valid server cookie in the flooded /24 is never limited');
  assert.equal(cookieResolver.answers() - clientOnlyReplies.length, cookieSent - 3, 'every query with the server cookie answered');
  // Its client cookie alone, mid-flood: limited like the flood, but BADCOOKIE with a fresh server
  // cookie to retry with, not a drop (one of them may find a bucket just refilled).
  assert.equal(clientOnlyReplies.length, 3, 'every client-cookie query is answered');
  assert.ok(clientOnlyReplies.filter((reply) => reply.rcodeName === 'BADCOOKIE' && reply.opt?.options.some((o) => o.code === EDNS_COOKIE && o.data.length === 24)).length >= 2, JSON.stringify(clientOnlyReplies.map((r) => r.rcodeName)));
  assert.ok(limiter.counters.badCookie >= 2);
  assert.equal(bystander.slips(), 0);
  for (const reply of await Promise.all(tcpAnswers)) {
    assert.equal(reply.flags.tc, false);
    assert.equal(reply.answer.length, 2, 'TCP from the flooded address is answered in full');
  }

  const admin = server.running.adminAddress!;
  const metrics = await (await fetch(`http://${admin.host}:${admin.port}/metrics`)).text();
  assert.match(metrics, new RegExp(`^meridian_dns_rrl_limited_total ${limiter.counters.limited}$`, 'm'));
  assert.match(metrics, new RegExp(`^meridian_dns_rrl_slipped_total ${limiter.counters.slipped}$`, 'm'));
  assert.match(metrics, new RegExp(`^meridian_dns_rrl_dropped_total ${limiter.counters.dropped}$`, 'm'));
  assert.match(metrics, /^meridian_dns_rrl_tokens [1-9]/m, 'the flood token is in use within its window');

  const limiting = await waitFor('the stop line, a window after the flood', () => {
    const said = lines().filter((line) => line.client === '127.0.0.0/24');
    return said.length >= 2 ? said : undefined;
  }, 5000);
  assert.equal(limiting.length, 2, 'one line when limiting starts and one when it stops');
  assert.match(String(limiting[0]!.msg), /rate limiting responses to 127\.0\.0\.0\/24 \(positive\)/);
  assert.match(String(limiting[1]!.msg), /stopped/);
  assert.ok(!lines().some((line) => String(line.client ?? '').startsWith('127.1.')), 'the bystander is never limited');

});
