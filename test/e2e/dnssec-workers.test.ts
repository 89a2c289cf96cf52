/**
 * DNSSEC with `serve --workers 2`: every process signs ahead the member sets of the health state
 * of the moment, so the first DO=1 answer after a failover in any process is a copy of kept
 * bytes. Shown by the counters, not by timing: after an override, /metrics (summed over both
 * processes) counts one set signed ahead per process before any query is sent, and the DO=1
 * queries that follow, from fresh sockets so both processes answer, are all cache hits with
 * RRSIGs that validate. /status, /explain and /metrics say what is signed with which key.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ECDSAP256SHA256, newCombinedKey, presentDs, writeKeyFiles } from '../../src/dnssec/index.js';
import { query, type Address } from '../support/dns-client.js';
import { trustedKey, verifySection } from '../support/dnssec-verifier.js';
import { spawnCliCaptured, waitFor } from '../support/e2e.js';

const ZONE = `
zone: ahead.test
soa: { mname: ns1.ahead.test, rname: hostmaster.ahead.test, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.53 }
  web: { ttl: 30, pool: two }
pools:
  two: { members: [127.0.9.1, 127.0.9.2] }
`;
const BATCH = 24;

/** Every sample of `name` in a Prometheus text, summed (labels matched as given, e.g. `{result="miss"}`). */
function metric(text: string, name: string, labels = ''): number {
  const line = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')}\\s+(\\S+)$`, 'm').exec(text);
  return line === null ? NaN : Number(line[1]);
}

test('--workers 2 with --keys: each process signs the new member set ahead of the first DO=1 query; /status and /metrics show the signing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-dnssec-workers-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'ahead.yaml'), ZONE);
  const key = newCombinedKey('ahead.test', ECDSAP256SHA256, Math.floor(Date.now() / 1000) - 60);
  await writeKeyFiles(dir, key);
  const anchor = trustedKey(`257 3 13 ${key.publicKey.toString('base64')}`);

  const { child, stdout, stderr } = spawnCliCaptured(t, ['serve', '--zones', dir, '--keys', dir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--no-health', '--no-geo', '--workers', '2']);
  const said = (): string[] => stdout().split('\n').filter((line) => line.startsWith('{')).map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
  await waitFor('both processes to answer', () => {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr()}`);
    return said().includes('answering in 2 processes');
  }, 60_000, 50); // two runtimes starting through tsx: slow on a busy machine
  const dns: Address = { host: '127.0.0.1', port: Number(said().map((m) => /^listening on 127\.0\.0\.1:(\d+) udp$/.exec(m)?.[1]).find(Boolean)) };
  const admin = said().map((m) => /^admin HTTP on (\S+)$/.exec(m)?.[1]).find(Boolean)!;
  const metrics = async (): Promise<string> => (await fetch(`http://${admin}/metrics`)).text();

  const status = (await (await fetch(`http://${admin}/status`)).json()) as { dnssec: { zones: { zone: string; signed: boolean; keys: { tag: number; role: string }[]; ds: string[]; renewalDue: number }[] } };
  const zone = status.dnssec.zones.find((z) => z.zone === 'ahead.test');
  assert.equal(zone?.signed, true);
  assert.deepEqual(zone?.keys.map((k) => [k.tag, k.role]), [[key.tag, 'CSK']]);
  assert.deepEqual(zone?.ds, [presentDs('ahead.test', key.rdata)]);
  assert.ok(zone!.renewalDue > Date.now() / 1000, 'renewal ahead');
  const explained = (await (await fetch(`http://${admin}/explain?name=web.ahead.test&from=192.0.2.1`)).json()) as { report: { dnssec?: { keyTags: number[] } }; text: string };
  assert.deepEqual(explained.report.dnssec?.keyTags, [key.tag]);
  assert.match(explained.text, new RegExp(`^dnssec: +signed by key ${key.tag} \\(ECDSAP256SHA256\\)`, 'm'));
  const start = await metrics();
  assert.equal(metric(start, 'meridian_dnssec_zone_signed', '{zone="ahead.test"}'), 1);
  assert.equal(metric(start, 'meridian_dnssec_keys_signing', '{zone="ahead.test"}'), 1);
  assert.ok(metric(start, 'meridian_dnssec_signature_expiration_timestamp_seconds', '{zone="ahead.test"}') > Date.now() / 1000);
  assert.ok(metric(start, 'meridian_dnssec_signatures_total', '{reason="static"}') > 0);

  // One member goes down: the set of the other alone is new, and each process signs it at once.
  const ahead = metric(start, 'meridian_dnssec_variants_signed_ahead_total');
  assert.equal((await fetch(`http://${admin}/overrides/127.0.9.2`, { method: 'PUT', body: JSON.stringify({ state: 'down' }) })).status, 200);
  await waitFor('both processes to sign the new member set ahead', async () => metric(await metrics(), 'meridian_dnssec_variants_signed_ahead_total') === ahead + 2, 10_000, 50);
  const before = await metrics();

  const answers = await Promise.all(Array.from({ length: BATCH }, () => query(dns, 'web.ahead.test', 'A', { edns: { do: true } })));
  for (const answer of answers) {
    assert.deepEqual(answer.answer.filter((r) => r.type === 'A').map((r) => r.data), ['127.0.9.1']);
    assert.deepEqual(verifySection(answer.answer, anchor), ['web.ahead.test. A']);
  }
  const after = await metrics();
  assert.equal(metric(after, 'meridian_dnssec_cache_lookups_total', '{result="miss"}'), metric(before, 'meridian_dnssec_cache_lookups_total', '{result="miss"}'), 'no DO=1 answer had to sign');
  assert.equal(metric(after, 'meridian_dnssec_cache_lookups_total', '{result="hit"}'), metric(before, 'meridian_dnssec_cache_lookups_total', '{result="hit"}') + BATCH);
  assert.equal(metric(after, 'meridian_dnssec_signatures_total', '{reason="variant"}'), metric(before, 'meridian_dnssec_signatures_total', '{reason="variant"}'));
});
