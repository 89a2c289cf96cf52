/**
 * CDN steering with pools of names, and the health-aware TTL, end to end: the real server with
 * the fixture GeoIP database and real local HTTP targets as the probed members. GB clients get
 * our own addresses, everyone else one CNAME to a CDN (per ECS location, with its scope, as dig
 * shows); when the CDN's probe target is turned off the second CDN's CNAME is answered with the
 * degraded TTL, and once the target is back (rise probes later) the first CDN with the full TTL.
 * /status, /metrics and /explain show the name members by probe address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatusReport } from '../../src/admin/index.js';
import type { ExplainReport } from '../../src/explain/index.js';
import { query } from '../support/dns-client.js';
import { dig, waitFor } from '../support/e2e.js';
import { buildGeoFixtures } from '../support/geo-fixtures.js';
import { startHttpTarget } from '../support/probe-targets.js';
import { startTestServer } from '../support/start-test-server.js';

function zone(port: number): string {
  return `zone: steering.test
ttl: 300
soa: { mname: ns1.steering.test, rname: hostmaster.steering.test, serial: 1 }
records:
  "@": { NS: [ns1.steering.test] }
  ns1: { A: 192.0.2.53 }
  www:
    ttl: 60
    geo:
      country: { GB: [own, cdn-a] }
      default: [cdn-a, cdn-b]
pools:
  own: { check: web, members: [127.0.94.1] }
  cdn-a:
    check: web
    members: [{ cname: eu.cdn-a.example.net., probe: 127.0.94.11 }]
  cdn-b: { members: [www.cdn-b.example.org.] }
checks:
  web: { type: http, port: ${port}, path: /healthz, interval: 1s, timeout: 500ms, rise: 2, fall: 1 }
`;
}

/** The answer section as dig prints it (owner, TTL, class, type, data), whitespace collapsed. */
function digAnswer(output: string): string[] {
  const section = /;; ANSWER SECTION:\n([\s\S]*?)\n\n/.exec(output)?.[1] ?? '';
  return section.split('\n').filter(Boolean).map((line) => line.split(/\s+/).join(' '));
}

test('CNAME pools per ECS location; the degraded TTL during a failover and the full TTL after recovery', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-cname-pools-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await buildGeoFixtures(dir);
  const own = await startHttpTarget({ address: '127.0.94.1' });
  t.after(() => own.stop());
  const cdnProbe = await startHttpTarget({ address: '127.0.94.11', port: own.port });
  t.after(() => cdnProbe.stop());
  const server = await startTestServer({ zones: { 'steering.test.yaml': zone(own.port) }, geoipFiles: [paths.city], admin: { host: '127.0.0.1', port: 0 } });
  t.after(() => server.close());
  const admin = `http://127.0.0.1:${server.running.adminAddress!.port}`;
  /** dig's output for a FR client once the answer is a CNAME to `target`. */
  const digUntil = (target: string): Promise<string> =>
    waitFor(
      `a CNAME to ${target}`,
      async () => {
        const output = await dig(server.v4, ['www.steering.test', 'A', '+subnet=90.0.0.0/16']);
        return digAnswer(output)[0]?.endsWith(` CNAME ${target}`) ? output : undefined;
      },
      10_000,
      100,
    );

  // GB (81.2.69.0/24, a /25 in the fixture): our own address, full TTL, scope /25.
  const gb = await dig(server.v4, ['www.steering.test', 'A', '+subnet=81.2.69.0/24']);
  assert.deepEqual(digAnswer(gb), ['www.steering.test. 60 IN A 127.0.94.1']);
  assert.match(gb, /CLIENT-SUBNET: 81\.2\.69\.0\/24\/25/);
  // FR (90.0.0.0/16): the first CDN's CNAME, full TTL, scope /16; one CNAME whatever the type.
  const fr = await dig(server.v4, ['www.steering.test', 'A', '+subnet=90.0.0.0/16']);
  assert.deepEqual(digAnswer(fr), ['www.steering.test. 60 IN CNAME eu.cdn-a.example.net.']);
  assert.match(fr, /CLIENT-SUBNET: 90\.0\.0\.0\/16\/16/);
  for (const type of ['AAAA', 'TXT', 'MX']) {
    const response = await query(server.v6, 'www.steering.test', type, { edns: { clientSubnet: '90.0.0.0/16' } });
    assert.deepEqual([response.answer.map((r) => `${r.type} ${r.data}`), response.opt?.ecs?.scope], [['CNAME eu.cdn-a.example.net.'], 16], type);
  }
  // GB asking for TXT: the name holds nothing but its addresses for GB: NODATA, still scoped.
  const gbTxt = await query(server.v4, 'www.steering.test', 'TXT', { edns: { clientSubnet: '81.2.69.0/24' } });
  assert.deepEqual([gbTxt.rcodeName, gbTxt.answer.length, gbTxt.opt?.ecs?.scope], ['NOERROR', 0, 25]);

  // The name member is shown by its probe address in /status and the member-up gauge.
  const status = (await (await fetch(`${admin}/status`)).json()) as StatusReport;
  const cdnA = status.pools.find((p) => p.pool === 'cdn-a')!;
  assert.deepEqual(cdnA.members.map((m) => [m.address, m.cname, m.status]), [['127.0.94.11', 'eu.cdn-a.example.net', 'up']]);
  const metrics = await (await fetch(`${admin}/metrics`)).text();
  assert.match(metrics, /meridian_health_member_up\{zone="steering.test",pool="cdn-a",member="127.0.94.11"\} 1/);

  // Turn the CDN's probe target off: after fall (1) probe, the second CDN answers at the degraded TTL, min(60, 1 s × 2) = 2.
  await cdnProbe.stop();
  const failedOver = await digUntil('www.cdn-b.example.org.');
  assert.deepEqual(digAnswer(failedOver), ['www.steering.test. 2 IN CNAME www.cdn-b.example.org.']);
  assert.match(failedOver, /CLIENT-SUBNET: 90\.0\.0\.0\/16\/16/);
  // GB still gets its own servers at the full TTL: its list's first pool is healthy.
  assert.deepEqual(digAnswer(await dig(server.v4, ['www.steering.test', 'A', '+subnet=81.2.69.0/24'])), ['www.steering.test. 60 IN A 127.0.94.1']);
  const explained = (await (await fetch(`${admin}/explain?name=www.steering.test&from=90.0.0.0/16`)).json()) as { report: ExplainReport; text: string };
  assert.deepEqual([explained.report.decision?.pool, explained.report.chosen, explained.report.ttl?.seconds], ['cdn-b', 'www.cdn-b.example.org', 2]);
  assert.match(explained.text, /chosen: +www\.cdn-b\.example\.org\./);
  assert.match(explained.text, /ttl: +2, degraded, as a pool after the first answered; by default min\(ttl 60, interval × rise of pool (own|cdn-a)'s check web: 1 s × 2\)/);
  assert.match(explained.text, /eu\.cdn-a\.example\.net\. +down +weight 1, probed at 127\.0\.94\.11/);

  // Turn it on again: after rise (2) good probes the first CDN is back, at the full TTL.
  await cdnProbe.restart();
  const recovered = await digUntil('eu.cdn-a.example.net.');
  assert.deepEqual(digAnswer(recovered), ['www.steering.test. 60 IN CNAME eu.cdn-a.example.net.']);

  // An override names a name member by its probe address, and acts at once.
  await server.running.health.setOverride('127.0.94.11', 'drained');
  assert.deepEqual(digAnswer(await dig(server.v4, ['www.steering.test', 'A', '+subnet=90.0.0.0/16'])), ['www.steering.test. 2 IN CNAME www.cdn-b.example.org.']);
  await server.running.health.setOverride('127.0.94.11', null);
  assert.deepEqual(digAnswer(await dig(server.v4, ['www.steering.test', 'A', '+subnet=90.0.0.0/16'])), ['www.steering.test. 60 IN CNAME eu.cdn-a.example.net.']);
});
