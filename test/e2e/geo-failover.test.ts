/**
 * Issue 3, "Geo rules" + health: the rule picks an ordered pool list and the first pool of that
 * list that is up answers. Members with a `tcp` check against a closed port on 127.0.9.x are
 * down after the first probe (which the server runs before it answers); a pool with a check
 * against a live listener is up; a pool without a check is always up. When every pool in the
 * chosen list is down, the first pool's members answer anyway (fail open).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query, type Address } from '../support/dns-client.js';
import { buildGeoFixtures } from '../support/geo-fixtures.js';
import { startTcpTarget } from '../support/probe-targets.js';
import { startTestServer } from '../support/start-test-server.js';

/** A port nothing listens on at `address` (bound, then released). */
function closedPort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function zone(closed: number, open: number): string {
  return `zone: example.test
ttl: 300
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www:
    ttl: 30
    geo:
      country:   { FR: [dead, paris, london], GB: [dead, deadtoo], US: [checked, paris] }
      continent: { EU: [deadtoo, checked, paris] }
      default:   [dead, fallback]
pools:
  dead:
    check: closed
    members: [127.0.9.1, { address: "2001:db8:99::1", probe: 127.0.9.1 }]
  deadtoo:   { check: closed, members: [127.0.9.2] }
  checked:   { check: open, members: [127.0.9.3] }
  paris:     { members: [192.0.2.3, "2001:db8:ff::3"] }
  london:    { members: [192.0.2.1, "2001:db8:ff::1"] }
  fallback:  { members: [192.0.2.11, "2001:db8:ff::b"] }
checks:
  closed: { type: tcp, port: ${closed}, interval: 1s, timeout: 1s, rise: 1, fall: 1 }
  open:   { type: tcp, port: ${open}, interval: 1s, timeout: 1s, rise: 1, fall: 1 }
`;
}

test('the first pool of the chosen list that is up answers; all down fails open to the first pool', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await buildGeoFixtures(dir);
  const live = await startTcpTarget({ address: '127.0.9.3' });
  t.after(() => live.stop());
  const closed = await closedPort('127.0.9.1');
  const server = await startTestServer({ zones: { 'example.test.yaml': zone(closed, live.port) }, geoipFiles: [paths.city] });
  t.after(() => server.close());

  // The server ran the first probes before answering: the dead members are down, the checked one up.
  const health = server.running.serving().health;
  assert.equal(health.status(null, '192.0.2.3'), 'up', 'a member without a check is up');

  const answers = async (listener: Address, subnet: string, type: 'A' | 'AAAA'): Promise<{ data: string[]; scope: number | undefined }> => {
    const response = await query(listener, 'www.example.test', type, { edns: { clientSubnet: subnet } });
    assert.equal(response.rcodeName, 'NOERROR');
    return { data: response.answer.map((r) => r.data).sort(), scope: response.opt?.ecs?.scope };
  };

  for (const listener of [server.v4, server.v6]) {
    // FR: [dead, paris, london] → dead is down, paris answers (not london, the list's order holds).
    assert.deepEqual(await answers(listener, '90.0.0.0/16', 'A'), { data: ['192.0.2.3'], scope: 16 });
    assert.deepEqual(await answers(listener, '2a01:db8::/32', 'AAAA'), { data: ['2001:db8:ff::3'], scope: 32 });
    // US: [checked, paris] → the checked member is up, so it answers.
    assert.deepEqual(await answers(listener, '198.51.100.0/24', 'A'), { data: ['127.0.9.3'], scope: 24 });
    // DE (continent EU): [deadtoo, checked, paris] → checked.
    assert.deepEqual(await answers(listener, '203.0.113.0/24', 'A'), { data: ['127.0.9.3'], scope: 24 });
    // A miss: [dead, fallback] → fallback.
    assert.deepEqual(await answers(listener, '10.1.2.0/24', 'A'), { data: ['192.0.2.11'], scope: 2 });
    assert.deepEqual(await answers(listener, '2c0f:db8::/32', 'AAAA'), { data: ['2001:db8:ff::b'], scope: 6 });
    // GB: [dead, deadtoo] → both down: fail open with the first pool's members.
    assert.deepEqual(await answers(listener, '81.2.69.0/25', 'A'), { data: ['127.0.9.1'], scope: 25 });
  }

  // The list follows the pool's state: bring the checked member down and US moves on to paris.
  await live.stop();
  const deadline = Date.now() + 8000;
  let us = await answers(server.v4, '198.51.100.0/24', 'A');
  while (us.data[0] !== '192.0.2.3' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    us = await answers(server.v4, '198.51.100.0/24', 'A');
  }
  assert.deepEqual(us, { data: ['192.0.2.3'], scope: 24 }, 'US fails over to paris once its checked pool is down');
});
