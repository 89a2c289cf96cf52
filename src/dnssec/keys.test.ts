import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ECDSAP256SHA256, ED25519 } from './algorithms.js';
import { isPublished, isSigning, keyTag, nextTimingEvent, presentDs } from './dnskey.js';
import { formatKeyTime, newCombinedKey, newCombinedKeyIn, parseKeyTime, readKeyFolder, writeKeyFiles } from './key-files.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meridian-keys-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

function dsFromKey(keyFile: string): string {
  return execFileSync('dnssec-dsfromkey', ['-2', keyFile], { encoding: 'utf8' }).trim();
}

describe('BIND key files', () => {
  it("loads keys made by BIND's dnssec-keygen with the key tag and DS that dnssec-dsfromkey gives", async () => {
    const bindDir = join(dir, 'bind');
    execFileSync('mkdir', ['-p', bindDir]);
    const made = [
      execFileSync('dnssec-keygen', ['-q', '-K', bindDir, '-a', 'ECDSAP256SHA256', '-f', 'KSK', 'bind.example'], { encoding: 'utf8' }).trim(),
      execFileSync('dnssec-keygen', ['-q', '-K', bindDir, '-a', 'ECDSAP256SHA256', 'bind.example'], { encoding: 'utf8' }).trim(),
      execFileSync('dnssec-keygen', ['-q', '-K', bindDir, '-a', 'ED25519', '-f', 'KSK', 'bind.example'], { encoding: 'utf8' }).trim(),
    ];
    const { keys, problems } = await readKeyFolder(bindDir);
    assert.deepEqual(problems, []);
    assert.equal(keys.length, 3);
    for (const base of made) {
      const key = keys.find((k) => k.path.endsWith(base))!;
      assert.ok(key, base);
      assert.equal(key.tag, Number(base.slice(-5)), 'the tag in the file name');
      assert.equal(presentDs('bind.example', key.rdata), dsFromKey(join(bindDir, `${base}.key`)));
      assert.equal(key.flags, base === made[1] ? 256 : 257);
      assert.ok(isSigning(key, Math.floor(Date.now() / 1000) + 1));
    }
  });

  it("loads a P-256 key whose scalar BIND wrote without its leading zero byte (31 bytes), and signs with it", async () => {
    // Made by BIND 9.18's dnssec-keygen: one key in 256 has a scalar starting with 0x00, which BIND omits.
    const shortDir = join(dir, 'short-scalar');
    execFileSync('mkdir', ['-p', shortDir]);
    const base = join(shortDir, 'Kx.example.+013+04709');
    await writeFile(`${base}.key`, 'x.example. IN DNSKEY 256 3 13 ILLzR0z9egYTdpGwUQ3bAofZ8zJEL6TbPJlfcK4ot/TJj2zHLL9Aulff ++qPyXLHZnoajdSrPpPvmC4SOagWHw==\n');
    await writeFile(
      `${base}.private`,
      'Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: krjF9RsiLS5XJucwuY82g5DOHS+5oMzIioCsbxGD1A==\nCreated: 20261203164004\nPublish: 20261203164004\nActivate: 20261203164004\n',
    );
    assert.equal(Buffer.from('krjF9RsiLS5XJucwuY82g5DOHS+5oMzIioCsbxGD1A==', 'base64').length, 31);
    const { keys, problems } = await readKeyFolder(shortDir);
    assert.deepEqual(problems, []);
    assert.equal(keys.length, 1);
    const key = keys[0]!;
    assert.equal(key.tag, 4709);
    assert.equal(presentDs('x.example', key.rdata), dsFromKey(`${base}.key`));
    const data = Buffer.from('signed with the padded scalar');
    assert.ok(ECDSAP256SHA256.verify(data, ECDSAP256SHA256.importPublic(key.publicKey), ECDSAP256SHA256.sign(data, key.privateKey)));
    assert.equal(ECDSAP256SHA256.privateKeyField(key.privateKey).length, 32, 'written back at full width');
  });

  it('keygen writes a CSK that BIND reads: the same DS from dnssec-dsfromkey, the private file 0600', async () => {
    const ours = join(dir, 'ours');
    execFileSync('mkdir', ['-p', ours]);
    for (const algorithm of [ECDSAP256SHA256, ED25519]) {
      const key = newCombinedKey('Geo.Example.', algorithm, 1_800_000_000);
      const path = await writeKeyFiles(ours, key);
      assert.equal((await stat(`${path}.private`)).mode & 0o777, 0o600);
      assert.equal(key.flags, 257);
      assert.equal(presentDs('geo.example', key.rdata), dsFromKey(`${path}.key`));
    }
    const { keys, problems } = await readKeyFolder(ours);
    assert.deepEqual(problems, []);
    assert.equal(keys.length, 2);
    assert.deepEqual(keys[0]!.timing, { created: 1_800_000_000, publish: 1_800_000_000, activate: 1_800_000_000 });
    await assert.rejects(writeKeyFiles(ours, { ...newCombinedKey('geo.example', ED25519, 0), tag: keys.find((k) => k.algorithm === ED25519)!.tag, algorithm: ED25519 }), /EEXIST/);
  });

  it("keygen draws the key again when its tag is one a key of the zone in the folder has (about one key in 65,536)", async () => {
    const folder = join(dir, 'tags');
    execFileSync('mkdir', ['-p', folder]);
    const existing = newCombinedKey('tags.example', ED25519, 0);
    await writeKeyFiles(folder, existing);
    let fresh = newCombinedKey('tags.example', ED25519, 0);
    while (fresh.tag === existing.tag) fresh = newCombinedKey('tags.example', ED25519, 0);
    // The first draw has the tag (and so the file names) of the key already there.
    const draws = [{ ...existing }, fresh];
    const key = await newCombinedKeyIn(folder, 'Tags.Example.', ED25519, 0, () => draws.shift()!);
    assert.equal(key, fresh);
    assert.equal(draws.length, 0, 'drawn twice');
    await writeKeyFiles(folder, key);
    assert.deepEqual((await readKeyFolder(folder)).keys.map((k) => k.tag).sort(), [existing.tag, fresh.tag].sort());
  });

  it('reports a broken key file by name and keeps the good ones', async () => {
    const mixed = join(dir, 'mixed');
    execFileSync('mkdir', ['-p', mixed]);
    await writeKeyFiles(mixed, newCombinedKey('a.example', ECDSAP256SHA256, 0));
    await writeFile(join(mixed, 'Kb.example.+013+00001.key'), 'b.example. IN DNSKEY 257 3 13 AAAA\n');
    await writeFile(join(mixed, 'Kb.example.+013+00001.private'), 'Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: AAAA\n');
    await writeFile(join(mixed, 'Kc.example.+013+00002.key'), 'c.example. IN DNSKEY 257 3 8 AwEAAa==\n');
    const { keys, problems } = await readKeyFolder(mixed);
    assert.deepEqual(keys.map((key) => key.zone), ['a.example']);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!.message, /ECDSAP256SHA256 public key is 3 bytes, not 64/);
    assert.match(problems[1]!.message, /missing: a key needs both its \.key and \.private file/);
    assert.ok((await readdir(mixed)).length >= 4);
  });
});

describe('key tags and timing', () => {
  it('computes the RFC 4034 Appendix B tag of a known DNSKEY (RFC 4034 §5.4 example key 60485)', () => {
    const publicKey = Buffer.from(
      'AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==',
      'base64',
    );
    const rdata = Buffer.concat([Buffer.from([0x01, 0x00, 3, 5]), publicKey]);
    assert.equal(keyTag(rdata), 60485);
  });

  it('reads key times as UTC and says when a key is published and signing', () => {
    assert.equal(parseKeyTime('20261203080536'), Date.UTC(2026, 11, 3, 8, 5, 36) / 1000);
    assert.equal(formatKeyTime(Date.UTC(2026, 11, 3, 8, 5, 36) / 1000), '20261203080536');
    assert.equal(parseKeyTime('2026-12-03'), undefined);
    const key = { ...newCombinedKey('t.example', ED25519, 100), path: 'x', timing: { publish: 100, activate: 200, inactive: 300, delete: 400 } };
    assert.deepEqual([50, 150, 250, 350, 450].map((now) => [isPublished(key, now), isSigning(key, now)]), [
      [false, false],
      [true, false],
      [true, true],
      [true, false],
      [false, false],
    ]);
    assert.equal(nextTimingEvent([key], 150), 200);
    assert.equal(nextTimingEvent([key], 400), null);
  });
});
