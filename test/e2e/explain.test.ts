/**
 * Issue 3, "Explain": `meridian explain NAME [TYPE] --from IP|SUBNET --zones DIR --geoip FILE`
 * reports, for that client, its location as the database sees it, the rule that matched, the
 * pool list with each pool's state, and the answer with its ECS scope. The JSON must agree with
 * what the running server answers to the same subnet; the human output names rule and pool.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRecord, query } from '../support/dns-client.js';
import { explainInProcess, runCli, type ExecResult } from '../support/e2e.js';
import { buildGeoFixtures, type GeoFixturePaths } from '../support/geo-fixtures.js';
import { geoZone } from '../support/geo-zone.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';

interface ExplainJson {
  query: { name: string; type: string };
  client: {
    address: string;
    family: 4 | 6;
    ecsSourcePrefix: number | null;
    location: { continent?: string; country?: string; subdivisions?: string[]; asn?: number; coordinates?: { lat: number; lon: number }; locationPrefixLength: number; asnPrefixLength: number };
    databases: string[];
  };
  decision: { rule: string; ruleKey: string | null; pools: string[]; pool: string | null; outcome: string; scope: number } | null;
  pools: { name: string; check: string | null; members: { address: string; status: string; lastResult: string | null }[] }[];
  answer: { rcode: string; ecsScope: number; records: string[] };
}

interface Setup {
  paths: GeoFixturePaths;
  zonesDir: string;
  server: TestServer;
}

async function setup(t: TestContext, zoneText: string, geoipFiles: (p: GeoFixturePaths) => string[], healthDisabled = true): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-explain-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await buildGeoFixtures(dir);
  const zonesDir = join(dir, 'zones');
  await mkdir(zonesDir);
  await writeFile(join(zonesDir, 'example.test.yaml'), zoneText);
  const server = await startTestServer({ zones: { 'example.test.yaml': zoneText }, geoipFiles: geoipFiles(paths), healthDisabled });
  t.after(() => server.close());
  return { paths, zonesDir, server };
}

function explain(s: Setup, files: string[], args: string[]): Promise<ExecResult> {
  return explainInProcess([...args, '--zones', s.zonesDir, ...files.flatMap((f) => ['--geoip', f])]);
}

function parseJson(result: ExecResult, what: string): ExplainJson {
  assert.equal(result.code, 0, `${what}: exit ${result.code}\n${result.stderr}`);
  return JSON.parse(result.stdout) as ExplainJson;
}

interface Case {
  name: string;
  type: 'A' | 'AAAA';
  from: string;
  location: { country?: string; continent?: string; subdivisions?: string[]; asn?: number };
  rule: string | null;
  ruleKey?: string | null;
  pools?: string[];
  pool?: string;
}

test('explain --json agrees with the server: location, rule, pools, records and ECS scope', async (t) => {
  const s = await setup(t, geoZone(), (p) => [p.city, p.asn]);
  const files = [s.paths.city, s.paths.asn];
  const cases: Case[] = [
    { name: 'www', type: 'A', from: '198.51.100.128/25', location: { country: 'US', continent: 'NA', subdivisions: ['US-CA'] }, rule: 'network', ruleKey: '198.51.100.128/25', pools: ['office'] },
    { name: 'www', type: 'A', from: '90.0.0.0/16', location: { country: 'FR', continent: 'EU', asn: 3215 }, rule: 'asn', ruleKey: 'AS3215', pools: ['orange'] },
    { name: 'www', type: 'A', from: '198.51.100.0/24', location: { country: 'US', continent: 'NA', subdivisions: ['US-CA'] }, rule: 'subdivision', ruleKey: 'US-CA', pools: ['california'] },
    { name: 'www', type: 'A', from: '81.2.69.0/24', location: { country: 'GB', continent: 'EU', subdivisions: ['GB-ENG'], asn: 20712 }, rule: 'country', ruleKey: 'GB', pools: ['london'] },
    { name: 'www', type: 'AAAA', from: '2001:db8:de::/48', location: { country: 'DE', continent: 'EU', subdivisions: ['DE-BE'] }, rule: 'continent', ruleKey: 'EU', pools: ['frankfurt'] },
    { name: 'www', type: 'AAAA', from: '2400:db8::/32', location: { country: 'JP', continent: 'AS', subdivisions: ['JP-13'] }, rule: 'country', ruleKey: 'JP', pools: ['tokyo'] },
    { name: 'www', type: 'A', from: '10.1.2.0/24', location: {}, rule: 'default', ruleKey: null, pools: ['fallback'] },
    // nearest: the pool list comes back ordered by distance from Paris.
    { name: 'near', type: 'A', from: '90.0.0.0/16', location: { country: 'FR', continent: 'EU' }, rule: 'nearest', ruleKey: null, pools: ['paris', 'frankfurt', 'virginia', 'oregon', 'saopaulo'] },
    // A plain IP is the source address (no ECS): same choice as the server gives that address as a /32.
    { name: 'www', type: 'A', from: '81.2.69.200', location: { country: 'IE', continent: 'EU', subdivisions: ['IE-L'], asn: 20712 }, rule: 'continent', ruleKey: 'EU', pools: ['frankfurt'] },
    // Static records: no decision, scope 0.
    { name: 'static', type: 'A', from: '81.2.69.0/24', location: { country: 'GB', continent: 'EU' }, rule: null },
  ];
  const results = await Promise.all(cases.map((c) => explain(s, files, [`${c.name}.example.test`, c.type, '--from', c.from, '--json', '--no-health'])));
  for (const [i, c] of cases.entries()) {
    await t.test(`${c.name} ${c.type} --from ${c.from}`, async () => {
      const report = parseJson(results[i]!, c.from);
      const subnet = c.from.includes('/') ? c.from : `${c.from}/${c.from.includes(':') ? 128 : 32}`;
      const served = await query(s.server.v4, `${c.name}.example.test`, c.type, { edns: { clientSubnet: subnet } });

      assert.deepEqual(report.query, { name: `${c.name}.example.test`, type: c.type });
      assert.equal(report.client.address, subnet.split('/')[0]);
      assert.equal(report.client.ecsSourcePrefix, c.from.includes('/') ? Number(c.from.split('/')[1]) : null);
      assert.equal(report.client.databases.length, 2);
      // The location as the database sees it.
      const location = report.client.location;
      assert.equal(location.country, c.location.country);
      assert.equal(location.continent, c.location.continent);
      if (c.location.subdivisions) assert.deepEqual(location.subdivisions, c.location.subdivisions);
      if (c.location.asn !== undefined) assert.equal(location.asn, c.location.asn);
      // The rule and the pool list.
      if (c.rule === null) assert.equal(report.decision, null);
      else {
        assert.ok(report.decision);
        assert.equal(report.decision.rule, c.rule);
        assert.equal(report.decision.ruleKey, c.ruleKey);
        assert.deepEqual(report.decision.pools, c.pools);
        assert.equal(report.decision.pool, c.pools![0]);
        assert.equal(report.decision.outcome, 'primary');
        // Every listed pool is reported with its members' state (health off: all up).
        for (const name of c.pools!) {
          const pool = report.pools.find((p) => p.name === name);
          assert.ok(pool, `pool ${name} in the report`);
          assert.ok(pool.members.length > 0 && pool.members.every((m) => m.status === 'up'));
        }
      }
      // The answer: the same records and the same scope as the server's.
      assert.equal(report.answer.rcode, served.rcodeName);
      assert.deepEqual([...report.answer.records].sort(), served.answer.map(formatRecord).sort());
      assert.equal(report.answer.ecsScope, served.opt?.ecs?.scope, 'ECS scope');
      if (report.decision) assert.equal(report.decision.scope, served.opt?.ecs?.scope);
    });
  }
});

test('explain prints the rule, the pool and the scope for humans', async (t) => {
  const s = await setup(t, geoZone(), (p) => [p.city, p.asn]);
  const files = [s.paths.city, s.paths.asn];
  const [gb, us, miss] = await Promise.all([
    explain(s, files, ['www.example.test', '--from', '81.2.69.0/24', '--no-health']),
    explain(s, files, ['www.example.test', 'AAAA', '--from', '2001:db8:ca::/48', '--no-health']),
    explain(s, files, ['www.example.test', '--from', '10.1.2.3', '--no-health']),
  ]);
  for (const r of [gb, us, miss]) assert.equal(r.code, 0, r.stderr);
  assert.match(gb.stdout, /^query: +www\.example\.test A from 81\.2\.69\.0\/24 \(EDNS Client Subnet\)$/m);
  assert.match(gb.stdout, /^client: +country GB, subdivision GB-ENG, continent EU, AS20712/m);
  assert.match(gb.stdout, /database networks: location \/25, ASN \/16/);
  assert.match(gb.stdout, /^rule: +geo country GB → \[london\]$/m);
  assert.match(gb.stdout, /^ +→ london \(no check: always up\)$/m);
  assert.match(gb.stdout, /^outcome: +primary \(pool london\)$/m);
  assert.match(gb.stdout, /^answer: +NOERROR, ECS scope \/25$/m);
  assert.match(gb.stdout, /^ +www\.example\.test\. 30 IN A 192\.0\.2\.1$/m);

  assert.match(us.stdout, /^rule: +geo subdivision US-CA → \[california\]$/m);
  assert.match(us.stdout, /^ +→ california/m);
  assert.match(us.stdout, /^answer: +NOERROR, ECS scope \/48$/m);
  assert.match(us.stdout, /2001:db8:ff::6$/m);

  assert.match(miss.stdout, /from 10\.1\.2\.3 \(source address\)/);
  assert.match(miss.stdout, /^client: +unknown to the database/m);
  assert.match(miss.stdout, /^rule: +geo default → \[fallback\]$/m);
  assert.match(miss.stdout, /^ +→ fallback/m);
});

test('explain with health: the pool states, and the failover within the chosen list, match the server', async (t) => {
  const closed = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.9.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  const zoneText = `zone: example.test
soa: { mname: ns1.example.test, rname: hostmaster.example.test, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  alias: { CNAME: www }
  www:
    ttl: 30
    geo:
      country: { FR: [dead, paris] }
      default: [fallback]
pools:
  dead:     { check: closed, members: [127.0.9.1] }
  paris:    { members: [192.0.2.3] }
  fallback: { members: [192.0.2.11] }
checks:
  closed: { type: tcp, port: ${closed}, interval: 1s, timeout: 1s, rise: 1, fall: 1 }
`;
  const s = await setup(t, zoneText, (p) => [p.city], false);
  const [json, human, aliasJson] = await Promise.all([
    explain(s, [s.paths.city], ['www.example.test', '--from', '90.0.0.0/16', '--json']),
    explain(s, [s.paths.city], ['www.example.test', '--from', '90.0.0.0/16']),
    explain(s, [s.paths.city], ['alias.example.test', '--from', '90.0.0.0/16', '--json']),
  ]);
  const report = parseJson(json, 'health');
  const served = await query(s.server.v4, 'www.example.test', 'A', { edns: { clientSubnet: '90.0.0.0/16' } });
  assert.deepEqual(served.answer.map((r) => r.data), ['192.0.2.3'], 'the server fails over to paris');
  assert.equal(report.decision?.rule, 'country');
  assert.deepEqual(report.decision?.pools, ['dead', 'paris']);
  assert.equal(report.decision?.pool, 'paris');
  assert.equal(report.decision?.outcome, 'failover');
  assert.equal(report.answer.ecsScope, served.opt?.ecs?.scope);
  assert.deepEqual(report.answer.records, served.answer.map(formatRecord));
  const dead = report.pools.find((p) => p.name === 'dead');
  assert.equal(dead?.check, 'closed');
  assert.equal(dead?.members[0]?.status, 'down');
  assert.notEqual(dead?.members[0]?.lastResult, null, 'the probe result is shown');
  assert.equal(report.pools.find((p) => p.name === 'paris')?.members[0]?.status, 'up');

  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^rule: +geo country FR → \[dead, paris\]$/m);
  assert.match(human.stdout, /^ {4}dead \(check closed\)$/m);
  assert.match(human.stdout, /^ +127\.0\.9\.1 +down/m);
  assert.match(human.stdout, /^ +→ paris \(no check: always up\)$/m);
  assert.match(human.stdout, /^outcome: +failover \(pool paris\)$/m);

  // Through a CNAME the routed target's members are probed too: the same failover as the server.
  const alias = parseJson(aliasJson, 'alias');
  const servedAlias = await query(s.server.v4, 'alias.example.test', 'A', { edns: { clientSubnet: '90.0.0.0/16' } });
  assert.deepEqual(servedAlias.answer.map((r) => r.data), ['www.example.test.', '192.0.2.3']);
  assert.deepEqual(alias.answer.records, servedAlias.answer.map(formatRecord), 'explain of a CNAME to a geo name matches the server');
  assert.equal(alias.decision?.outcome, 'failover');
  assert.equal(alias.pools.find((p) => p.name === 'dead')?.members[0]?.status, 'down');
});

test('explain --admin asks the running server: its overrides count; the offline explanation says it is offline and ignores them', async (t) => {
  const zoneText = `zone: example.test
soa: { mname: ns1.example.test, rname: hostmaster.example.test, refresh: 7200, retry: 900, expire: 1209600, minimum: 60 }
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  www: { pool: web }
pools:
  web: { members: [192.0.2.1, 192.0.2.2] }
`;
  const dir = await mkdtemp(join(tmpdir(), 'meridian-explain-live-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const zonesDir = join(dir, 'zones');
  await mkdir(zonesDir);
  await writeFile(join(zonesDir, 'example.test.yaml'), zoneText);
  const server = await startTestServer({ zones: { 'example.test.yaml': zoneText }, healthDisabled: true, admin: { host: '127.0.0.1', port: 0 } });
  t.after(() => server.close());
  const address = server.running.adminAddress;
  assert.ok(address, 'the admin endpoint is on');
  const admin = `${address.host}:${address.port}`;
  const drained = await fetch(`http://${admin}/overrides/192.0.2.1`, { method: 'PUT', body: JSON.stringify({ state: 'drain' }) });
  assert.equal(drained.status, 200, await drained.text());

  const live = await runCli(['explain', 'www.example.test', '--from', '192.0.2.77', '--admin', admin, '--json'], 30_000);
  const liveReport = parseJson(live, 'live');
  assert.match(live.stderr, /live explanation from the server at 127\.0\.0\.1:\d+/);
  assert.deepEqual(liveReport.answer.records.map((r) => r.split(/\s+/).at(-1)), ['192.0.2.2'], 'the drained member is not answered');
  const served = await query(server.v4, 'www.example.test', 'A');
  assert.deepEqual(liveReport.answer.records, served.answer.map(formatRecord), 'live explain agrees with the server');
  assert.equal(liveReport.pools[0]?.members.find((m) => m.address === '192.0.2.1')?.status, 'drained');

  const offline = await runCli(['explain', 'www.example.test', '--from', '192.0.2.77', '--zones', zonesDir, '--json'], 30_000);
  const offlineReport = parseJson(offline, 'offline');
  assert.match(offline.stderr, /offline explanation: .* without a running server's overrides/);
  assert.deepEqual(offlineReport.answer.records.map((r) => r.split(/\s+/).at(-1)).sort(), ['192.0.2.1', '192.0.2.2'], 'offline, the override is unknown');

  const both = await runCli(['explain', 'www.example.test', '--from', '192.0.2.77', '--admin', admin, '--zones', zonesDir], 30_000);
  assert.equal(both.code, 2, 'a live and an offline source at once is a usage error');
  const gone = await runCli(['explain', 'www.example.test', '--from', '192.0.2.77', '--admin', '127.0.0.1:1'], 30_000);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /cannot reach the admin endpoint at 127\.0\.0\.1:1/);
});
