/**
 * Geo rules validation end to end: the real CLI (`meridian check FILE`) reports unknown country,
 * subdivision and continent codes and malformed CIDRs with file:line:col, and the server refuses
 * to load such a file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { query } from '../support/dns-client.js';
import { runCli } from '../support/e2e.js';
import { startTestServer } from '../support/start-test-server.js';

// Line numbers are 1-based; the comment on each line is its number.
const BAD_ZONE = `zone: example.test
ttl: 300
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www:
    geo:
      network:
        "10.0.0.0/33": [london]
        10.0.0.1/8: [london]
        "2001:db8::/129": [london]
        "2001:db8::1/32": [london]
        "192.0.2.0/24": [london]
      subdivision: { US-CA: [london], XX-CA: [london] }
      country:
        GB: [london]
        XX: [london]
      continent: { EU2: [london], EU: [london] }
      default: [london]
pools:
  london: { members: [192.0.2.1] }
`;

test('check reports unknown country/continent codes and malformed CIDRs at file:line:col', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  await writeFile(file, BAD_ZONE);

  const result = await runCli(['check', file]);
  assert.equal(result.code, 1, `exit code (stderr: ${result.stderr})`);
  const lines = result.stdout.trim().split('\n').sort();
  const expected = [
    `${file}:10:9: "10.0.0.0/33" is not a network in CIDR form (192.0.2.0/24, 2001:db8::/32) [bad-cidr]`,
    `${file}:11:9: "10.0.0.1/8" has host bits set beyond /8 [bad-cidr]`,
    `${file}:12:9: "2001:db8::/129" is not a network in CIDR form (192.0.2.0/24, 2001:db8::/32) [bad-cidr]`,
    `${file}:13:9: "2001:db8::1/32" has host bits set beyond /32 [bad-cidr]`,
    `${file}:15:39: "XX-CA" is not an ISO 3166-2 subdivision code (country-subdivision, like US-CA) [bad-subdivision]`,
    `${file}:18:9: "XX" is not an ISO 3166-1 alpha-2 country code (upper case, like GB) [unknown-country]`,
    `${file}:19:20: "EU2" is not a continent code (AF, AN, AS, EU, NA, OC, SA) [unknown-continent]`,
  ].sort();
  assert.deepEqual(lines, expected);

  // Each problem alone, and the same file without the mistakes, are unit tests
  // (src/zones/diagnostics.test.ts): they need no process.
});

test('the server does not serve a zone whose geo rules are invalid, and reports the same positions', async (t) => {
  const server = await startTestServer({ zones: { 'bad.yaml': BAD_ZONE }, healthDisabled: true });
  t.after(() => server.close());
  const [state] = server.running.zoneFiles();
  assert.equal(state?.ok, false);
  const positions = state!.diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`).sort();
  assert.deepEqual(positions, ['10:9 bad-cidr', '11:9 bad-cidr', '12:9 bad-cidr', '13:9 bad-cidr', '15:39 bad-subdivision', '18:9 unknown-country', '19:20 unknown-continent']);
  const response = await query(server.v4, 'www.example.test', 'A', { edns: { clientSubnet: '81.2.69.0/24' } });
  assert.equal(response.rcodeName, 'REFUSED', 'the zone is not loaded');
});
