/**
 * Regression (issue 2): ANY at a routed name always picked the A RRset; when the name's pools
 * hold only IPv6 members the answer was an empty NODATA although the name has AAAA records.
 * RFC 8482 §4.1 answers ANY with one RRset the name actually has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSection, query, sortedLines } from '../support/dns-client.js';
import { startCoreServer } from '../support/e2e.js';

const ZONE = `
zone: any.test
soa: { mname: ns1.any.test, rname: hostmaster.any.test, serial: 1 }
records:
  "@": { NS: [ns1.any.test] }
  ns1: { A: 192.0.2.1 }
  v6: { pool: only6 }
  v6txt: { pool: only6, TXT: [hello] }
  v4: { pool: only4, TXT: [hello] }
pools:
  only6: { members: ["2001:db8::1", "2001:db8::2"] }
  only4: { members: [192.0.2.7] }
`;

test('ANY at a routed name with IPv6-only pools answers the AAAA RRset', async (t) => {
  const server = await startCoreServer({ zones: { 'any.test.yaml': ZONE } });
  t.after(() => server.close());
  for (const name of ['v6.any.test', 'v6txt.any.test']) {
    const res = await query(server.v4, name, 'ANY');
    assert.equal(res.rcodeName, 'NOERROR');
    assert.deepEqual(sortedLines(res.answer), [`${name}. 300 IN AAAA 2001:db8::1`, `${name}. 300 IN AAAA 2001:db8::2`]);
  }
  // A name whose pools have IPv4 members still answers A (one RRset only).
  const v4 = await query(server.v4, 'v4.any.test', 'ANY');
  assert.deepEqual(formatSection(v4.answer), ['v4.any.test. 300 IN A 192.0.2.7']);
});
