/**
 * The packet handler with a socket peer as Node reports it: a link-local peer carries a zone
 * index (`fe80::1%eth0`), which must neither throw on the query path nor miss a network rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servingState } from '../authority/index.js';
import { seededRandom } from '../routing/index.js';
import { compileZone, parseZoneFile, ZoneCatalog } from '../zones/index.js';
import { decodeMessage, encodeQuery } from '../wire/index.js';
import { presentRData } from '../records/index.js';
import { createPacketHandler, newQueryCounters, responseTo } from './handle-packet.js';

const ZONE = `zone: g.test
soa: { mname: ns1.g.test, rname: h.g.test }
pools:
  local: { members: [2001:db8::1] }
  world: { members: [2001:db8::2] }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  www:
    geo:
      network: { fe80::/10: [local] }
      default: [world]
`;

test('a link-local peer with a zone index is routed by its network rule, not SERVFAIL', () => {
  const parsed = parseZoneFile('g.yaml', ZONE);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.diagnostics));
  const catalog = new ZoneCatalog([compileZone(parsed.zone, 1, (address) => address)]);
  const serving = servingState(catalog, { health: { version: 0, status: () => 'up' }, geo: null, random: seededRandom(1) });
  const counters = newQueryCounters();
  const handle = createPacketHandler(
    () => serving,
    { nsid: null },
    counters,
  );
  for (const [peer, member] of [['fe80::1%eth0', '2001:db8::1'], ['fe80::1%2', '2001:db8::1'], ['2001:db8:9::1', '2001:db8::2']] as const) {
    const response = responseTo(handle, encodeQuery({ id: 7, name: 'www.g.test', type: 'AAAA' }), 'udp', peer);
    assert.ok(response !== null);
    const message = decodeMessage(response, presentRData);
    assert.equal(message.rcodeName, 'NOERROR', peer);
    assert.deepEqual(message.answer.map((record) => record.data), [member], peer);
  }
  assert.equal(counters.servfailFromErrors, 0);
});
