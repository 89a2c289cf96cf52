/**
 * Regression (issue 2): a question for type CNAME at a name that holds a CNAME was answered
 * NODATA, because the CNAME RRset lives apart from the other RRsets of a compiled node.
 * `dig alias.example.test CNAME` and resolvers' `resolveCname` must get the record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsPromises } from 'node:dns';
import { formatSection, query } from '../support/dns-client.js';
import { contractZone, startCoreServer } from '../support/e2e.js';

test('type CNAME at an alias is answered with the CNAME record', async (t) => {
  const server = await startCoreServer({ zones: { 'example.test.yaml': contractZone() } });
  t.after(() => server.close());
  for (const tcp of [false, true]) {
    const res = await query(server.v4, 'Alias.Example.Test', 'CNAME', { tcp });
    assert.equal(res.rcodeName, 'NOERROR');
    assert.equal(res.flags.aa, true);
    assert.deepEqual(formatSection(res.answer), ['Alias.Example.Test. 300 IN CNAME static.example.test.']);
    assert.deepEqual(res.authority, []);
  }
  const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${server.v4.port}`]);
  assert.deepEqual(await resolver.resolveCname('alias.example.test'), ['static.example.test']);
});
