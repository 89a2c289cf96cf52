/**
 * Regression (issue 2): an unquoted number in a TXT list was served as JavaScript prints the
 * number: `TXT: [1.10, 0x1F, 1e3]` went out as "1.1", "31", "1000". It is served as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { query } from '../support/dns-client.js';
import { startCoreServer } from '../support/e2e.js';

test('unquoted TXT values are served as written', async (t) => {
  const zone = `
zone: txt.test
soa: { mname: ns1.txt.test, rname: hostmaster.txt.test, serial: 1 }
records:
  "@": { NS: [ns1.txt.test] }
  v: { TXT: [1.10, 0x1F, 1e3, 007, true] }
`;
  const server = await startCoreServer({ zones: { 'txt.test.yaml': zone } });
  t.after(() => server.close());
  const res = await query(server.v4, 'v.txt.test', 'TXT');
  assert.deepEqual(res.answer.map((r) => r.data).sort(), ['"007"', '"0x1F"', '"1.10"', '"1e3"', '"true"']);
});
