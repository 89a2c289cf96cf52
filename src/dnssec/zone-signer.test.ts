import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileZoneTexts } from '../../test/support/compiled-zones.js';
import { silentLogger } from '../telemetry/logger.js';
import { RRType } from '../wire/index.js';
import { ED25519 } from './algorithms.js';
import { presentDs } from './dnskey.js';
import { DnssecKeeper } from './dnssec-keeper.js';
import { newCombinedKey, writeKeyFiles } from './key-files.js';
import { zoneKeySet, ZoneSigner } from './zone-signer.js';

const ZONE = `
zone: lru.test
soa: { mname: ns1.lru.test, rname: hostmaster.lru.test, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.1 }
  web: { pool: two }
pools:
  two: { members: [192.0.2.10, 192.0.2.11] }
`;
const NOW = 1_900_000_000;

function signer(limits = { memberSets: 4096, denials: 2 }): ZoneSigner {
  const zone = compileZoneTexts(ZONE)[0]!;
  const keys = zoneKeySet([{ ...newCombinedKey('lru.test', ED25519, NOW - 60), path: 'K' }], NOW)!;
  return new ZoneSigner(zone, keys, { inception: NOW - 3600, expiration: NOW + 86400 }, limits);
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-signer-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

describe('ZoneSigner caches and counters', () => {
  it('drops the least recently used denial when full, not the oldest, and counts hits, misses and evictions', () => {
    const s = signer();
    const c = s.counters;
    const a = s.denial('a.lru.test', RRType.A, undefined);
    s.denial('b.lru.test', RRType.A, undefined);
    assert.equal(s.denial('a.lru.test', RRType.A, undefined), a, 'a held: the same proof');
    assert.deepEqual([c.dnssecCacheHits, c.dnssecCacheMisses, c.dnssecDenialEvictions], [1, 2, 0]);
    s.denial('c.lru.test', RRType.A, undefined); // full: b, used least recently, goes
    assert.equal(c.dnssecDenialEvictions, 1);
    assert.equal(s.denial('a.lru.test', RRType.A, undefined), a, 'a, asked again after b, was kept');
    const signedBefore = c.dnssecSignaturesDenial;
    s.denial('b.lru.test', RRType.A, undefined);
    assert.equal(c.dnssecSignaturesDenial, signedBefore + 1, 'b was dropped: signed again');
    assert.deepEqual(s.cacheSizes().denial, 2);
  });

  it('counts signatures by reason: static and variant ahead, a new member set on first use as a miss', () => {
    const s = signer();
    const c = s.counters;
    const apexAndSoa = c.dnssecSignaturesStatic;
    assert.equal(apexAndSoa, 3, 'DNSKEY, CDS, CDNSKEY at the apex');
    for (const _ of s.warm(null)) void _;
    assert.ok(c.dnssecSignaturesStatic > apexAndSoa, 'static RRsets signed ahead');
    assert.equal(c.dnssecSignaturesVariant, 1, 'the full member set');
    assert.deepEqual([c.dnssecCacheHits, c.dnssecCacheMisses], [0, 0], 'signing ahead is no look-up');
    const routed = s.zone.nodes.get('web.lru.test')!.routed!;
    const members = [...routed.poolsByName.values()][0]!.members4;
    s.routedSignaturesOf([members[1]!.record, members[0]!.record], 'web.lru.test', routed, 4, false);
    assert.deepEqual([c.dnssecCacheHits, c.dnssecCacheMisses], [1, 0], 'the full set in another order: held');
    s.routedSignaturesOf([members[0]!.record], 'web.lru.test', routed, 4, false);
    assert.deepEqual([c.dnssecCacheHits, c.dnssecCacheMisses, c.dnssecSignaturesVariant], [1, 1, 2], 'one member: signed on the query path');
  });
});

describe('DnssecKeeper report and signing ahead', () => {
  it('signs the health state of the moment when a zone is attached, reports keys, DS and renewal, and counts renewal apart', async () => {
    const folder = join(dir, 'k');
    await mkdir(folder);
    const key = newCombinedKey('lru.test', ED25519, NOW - 60);
    await writeKeyFiles(folder, key);
    let now = NOW;
    const down = new Set(['192.0.2.11']);
    const keeper = await DnssecKeeper.open({
      keysDir: folder,
      logger: silentLogger(),
      now: () => now,
      validitySeconds: 1000,
      inceptionSkewSeconds: 10,
      watch: false,
      health: () => ({ version: 1, status: (_key, address) => (down.has(address) ? 'down' : 'up') }),
    });
    try {
      const slot = keeper.attach(compileZoneTexts(ZONE)[0]!);
      await keeper.settled();
      assert.equal(slot.current?.memberSetCount, 2, 'the full set and the one member up');
      assert.equal(keeper.counters.dnssecVariantsSignedAhead, 1);
      const [report] = keeper.report().zones;
      assert.equal(report?.signed, true);
      assert.deepEqual(report?.keys.map((k) => [k.tag, k.role, k.signing, k.algorithm]), [[key.tag, 'CSK', true, 'ED25519']]);
      assert.deepEqual(report?.ds, [presentDs('lru.test', key.rdata)]);
      assert.equal(report?.signatureExpiration, NOW + 1000);
      assert.equal(report?.renewalDue, NOW - 10 + 10 + 500);
      assert.equal(report?.renewalLag, 0);
      assert.equal(report?.cached.variant, 2);

      now += 600; // past half-life: signed again by a replacement, counted as renewal
      assert.equal(keeper.report().zones[0]?.renewalLag, 100, 'due 100 s ago, the old signer still serving');
      const before = { ...keeper.counters };
      keeper.review();
      await keeper.settled();
      assert.ok(keeper.counters.dnssecSignaturesRenewal > before.dnssecSignaturesRenewal);
      assert.equal(keeper.counters.dnssecSignaturesStatic, before.dnssecSignaturesStatic, 'a renewal is not counted as static');
      assert.equal(keeper.report().zones[0]?.renewalLag, 0);
    } finally {
      keeper.close();
    }
  });
});
