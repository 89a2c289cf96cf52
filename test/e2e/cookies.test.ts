/**
 * DNS cookies against the real server: `dig +cookie` gets a server cookie in RFC 9018's layout and
 * a resent one is accepted; Knot 3.2's mod-cookies, given the same secret, accepts Meridian's
 * cookies and Meridian accepts Knot's (the same hash); a malformed COOKIE option gets FORMERR,
 * byte for byte what Knot answers; /metrics counts queries by cookie state.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startKnot, type PeerServer } from '../difftest/peer-servers.js';
import { buildQuery, EDNS_COOKIE, parseResponse, sendUdp, type ParsedResponse } from '../support/dns-client.js';
import { dig, startCoreServer } from '../support/e2e.js';
import { PEER_ZONE_MASTER as MASTER, PEER_ZONE_YAML as YAML } from '../support/peer-zone.js';
import type { TestServer } from '../support/start-test-server.js';

const SECRET = '5f0e1d2c3b4a69788796a5b4c3d2e1f0';
const CLIENT_COOKIE = Buffer.from('24a1b2c3d4e5f607', 'hex');

let meridian: TestServer;
let knot: PeerServer;

before(async () => {
  [meridian, knot] = await Promise.all([
    startCoreServer({ zones: { 'peer.test.yaml': YAML }, cookies: { current: Buffer.from(SECRET, 'hex'), previous: null }, admin: { host: '127.0.0.1', port: 0 } }),
    startKnot([{ origin: 'peer.test', masterFile: MASTER }], { cookieSecret: SECRET }),
  ]);
});
after(async () => {
  await Promise.all([meridian?.close(), knot?.close()]);
});

function cookieQuery(id: number, serverCookie: Buffer = Buffer.alloc(0)): Buffer {
  return buildQuery({ id, name: 'www.peer.test', type: 'A', edns: { options: [{ code: EDNS_COOKIE, data: Buffer.concat([CLIENT_COOKIE, serverCookie]) }] } });
}

function cookieOf(response: ParsedResponse): Buffer | undefined {
  return response.opt?.options.find((option) => option.code === EDNS_COOKIE)?.data;
}

test('dig +cookie shows a server cookie (version 1, now); the cookie sent back is accepted and returned as it was', async () => {
  const before = { ...meridian.running.counters.cookies! };
  const first = await dig(meridian.v4, ['+norec', '+cookie', 'www.peer.test', 'A']);
  const shown = /; COOKIE: ([0-9a-f]{16})([0-9a-f]{32}) \(good\)/.exec(first);
  assert.ok(shown, `dig shows a client and a server cookie: ${first}`);
  const server = Buffer.from(shown[2]!, 'hex');
  assert.equal(server.subarray(0, 4).toString('hex'), '01000000', 'version 1, reserved 0');
  assert.ok(Math.abs(server.readUInt32BE(4) - Date.now() / 1000) < 5, 'the timestamp is now');
  assert.match(first, /status: NOERROR/);
  assert.match(first, /www\.peer\.test\.\s+300\s+IN\s+A\s+192\.0\.2\.10/);

  const again = await dig(meridian.v4, ['+norec', `+cookie=${shown[1]}${shown[2]}`, 'www.peer.test', 'A']);
  assert.match(again, new RegExp(`; COOKIE: ${shown[1]}${shown[2]} \\(good\\)`), 'the same server cookie comes back');
  assert.match(again, /status: NOERROR/);
  const after = meridian.running.counters.cookies!;
  assert.equal(after.cookiesClientOnly - before.cookiesClientOnly, 1);
  assert.equal(after.cookiesValid - before.cookiesValid, 1, 'the resent cookie was valid');

  const metrics = await (await fetch(`http://127.0.0.1:${meridian.running.adminAddress!.port}/metrics`)).text();
  assert.match(metrics, new RegExp(`meridian_dns_cookies_total\\{state="valid"\\} ${after.cookiesValid}\\b`));
  assert.match(metrics, new RegExp(`meridian_dns_cookies_total\\{state="client-only"\\} ${after.cookiesClientOnly}\\b`));
});

test('Knot mod-cookies with the same secret: it accepts Meridian\'s server cookie, and Meridian accepts and echoes Knot\'s', async () => {
  // Knot answers a query without a valid server cookie with BADCOOKIE and one of its own.
  const fromKnot = parseResponse(await sendUdp(knot.address, cookieQuery(1)));
  assert.equal(fromKnot.rcodeName, 'BADCOOKIE');
  const knotCookie = cookieOf(fromKnot)!.subarray(8);
  const ours = parseResponse(await sendUdp(meridian.v4, cookieQuery(2, knotCookie)));
  assert.equal(ours.rcodeName, 'NOERROR');
  assert.deepEqual(cookieOf(ours), Buffer.concat([CLIENT_COOKIE, knotCookie]), 'Knot\'s cookie is valid here: the same hash');

  const meridianCookie = cookieOf(parseResponse(await sendUdp(meridian.v4, cookieQuery(3))))!.subarray(8);
  const theirs = parseResponse(await sendUdp(knot.address, cookieQuery(4, meridianCookie)));
  assert.equal(theirs.rcodeName, 'NOERROR', 'Knot accepts Meridian\'s cookie');
  assert.equal(theirs.answer.length, 1);
});

test('a malformed COOKIE option gets FORMERR with an empty OPT, byte for byte as Knot answers', async () => {
  for (const length of [0, 7, 9, 15, 41]) {
    const packet = buildQuery({ id: 40 + length, name: 'www.peer.test', type: 'A', edns: { options: [{ code: EDNS_COOKIE, data: Buffer.alloc(length, 0x42) }] } });
    const [ours, theirs] = await Promise.all([sendUdp(meridian.v4, packet), sendUdp(knot.address, packet)]);
    assert.equal(parseResponse(ours).rcodeName, 'FORMERR', `${length} bytes`);
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `${length} bytes: the same response as Knot's`);
  }
});
