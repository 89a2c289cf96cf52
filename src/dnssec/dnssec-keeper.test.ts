import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.js';
import { compileZoneTexts } from '../../test/support/compiled-zones.js';
import { ECDSAP256SHA256, ED25519 } from './algorithms.js';
import { DnssecKeeper } from './dnssec-keeper.js';
import { keyFileTexts, newCombinedKey, writeKeyFiles } from './key-files.js';
import { ZONE_KEY_FLAG, dnskeyRdata, keyTag, type DnssecKey } from './dnskey.js';
import { RRType } from '../wire/index.js';

const ZONE = `
zone: keep.test
soa: { mname: ns1.keep.test, rname: hostmaster.keep.test, serial: 1 }
records:
  "@": { NS: ns1 }
  ns1: { A: 192.0.2.1 }
`;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-keeper-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

/** A zone-signing key (flags 256) with the given timing, written into `folder`. */
async function writeZsk(folder: string, timing: DnssecKey['timing']): Promise<number> {
  const base = newCombinedKey('keep.test', ED25519, 0);
  const rdata = dnskeyRdata(ZONE_KEY_FLAG, ED25519.code, base.publicKey);
  const key = { ...base, flags: ZONE_KEY_FLAG, rdata, tag: keyTag(rdata), timing };
  const texts = keyFileTexts(key, ED25519.privateKeyField(key.privateKey));
  const path = join(folder, `Kkeep.test.+015+${String(key.tag).padStart(5, '0')}`);
  await writeFile(`${path}.key`, texts.key);
  await writeFile(`${path}.private`, texts.private, { mode: 0o600 });
  return key.tag;
}

function dnskeyTags(keeper: DnssecKeeper, slot: { current: { apexRecords(type: number, dnssecOk: boolean): readonly Buffer[] | null } | null }): number[] {
  void keeper;
  const records = slot.current?.apexRecords(RRType.DNSKEY, false) ?? [];
  return records.map((record) => keyTag(record.subarray(2 + 10))).sort((a, b) => a - b);
}

describe('DnssecKeeper', () => {
  it('renews signatures at half their lifetime, and follows key timing without a restart', async () => {
    const folder = join(dir, 'a');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    let now = 1_900_000_000;
    const csk = newCombinedKey('keep.test', ECDSAP256SHA256, now - 10);
    await writeKeyFiles(folder, csk);
    const keeper = await DnssecKeeper.open({ keysDir: folder, logger: silentLogger(), now: () => now, validitySeconds: 1000, inceptionSkewSeconds: 10, watch: false });
    try {
      const [zone] = compileZoneTexts(ZONE);
      const slot = keeper.attach(zone!);
      assert.deepEqual(slot.current?.window, { inception: now - 10, expiration: now + 1000 });
      assert.deepEqual(dnskeyTags(keeper, slot), [csk.tag]);
      const first = slot.current;

      now += 400; // before half-life: nothing to do
      keeper.review();
      await keeper.settled();
      assert.equal(slot.current, first);
      now += 200; // past half-life: a new signer, with a window from now
      keeper.review();
      await keeper.settled();
      assert.notEqual(slot.current, first);
      assert.deepEqual(slot.current?.window, { inception: now - 10, expiration: now + 1000 });

      // A ZSK added with a later Publish: read, but not in the DNSKEY RRset until its time.
      const zsk = await writeZsk(folder, { publish: now + 50, activate: now + 100 });
      await keeper.reload();
      await keeper.settled();
      assert.deepEqual(dnskeyTags(keeper, slot), [csk.tag]);
      now += 60;
      keeper.review();
      await keeper.settled();
      assert.deepEqual(dnskeyTags(keeper, slot), [csk.tag, zsk].sort((a, b) => a - b));
      assert.deepEqual(slot.current?.keys.zoneSigning.map((key) => key.tag), [csk.tag], 'the ZSK is published but not yet active');
      now += 60;
      keeper.review();
      await keeper.settled();
      assert.deepEqual(slot.current?.keys.zoneSigning.map((key) => key.tag), [zsk]);
      assert.deepEqual(slot.current?.keys.keySigning.map((key) => key.tag), [csk.tag]);
    } finally {
      keeper.close();
    }
  });

  it('signs ahead the member sets a health change makes possible', async () => {
    const folder = join(dir, 'c');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    await writeKeyFiles(folder, newCombinedKey('keep.test', ED25519, 1_000));
    const keeper = await DnssecKeeper.open({ keysDir: folder, logger: silentLogger(), watch: false });
    try {
      const zone = compileZoneTexts(`${ZONE}  web: { pool: three }\npools:\n  three: { members: [192.0.2.10, 192.0.2.11, 192.0.2.12] }\n`)[0]!;
      const slot = keeper.attach(zone);
      await keeper.settled();
      assert.equal(slot.current?.memberSetCount, 1, 'the full set, signed ahead');
      keeper.healthChanged({ version: 1, status: (_key, address) => (address === '192.0.2.11' ? 'down' : 'up') });
      await new Promise((resolve) => setImmediate(resolve));
      await keeper.settled();
      assert.equal(slot.current?.memberSetCount, 2, 'the two members still up, signed before any answer needs them');
    } finally {
      keeper.close();
    }
  });

  it('stops signing a zone whose keys all went inactive', async () => {
    const folder = join(dir, 'b');
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    let now = 1_900_000_000;
    const key = { ...newCombinedKey('keep.test', ED25519, now - 10) };
    key.timing.inactive = now + 30;
    await writeKeyFiles(folder, key);
    const keeper = await DnssecKeeper.open({ keysDir: folder, logger: silentLogger(), now: () => now, watch: false });
    try {
      const slot = keeper.attach(compileZoneTexts(ZONE)[0]!);
      assert.notEqual(slot.current, null);
      now += 31;
      keeper.review();
      assert.equal(slot.current, null);
    } finally {
      keeper.close();
    }
  });
});
