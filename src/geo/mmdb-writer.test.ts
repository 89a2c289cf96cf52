// Checks the test-support MaxMind DB writer against the real maxmind reader. Lives here (not in
// test/support) so `npm test` runs it; every geo test relies on these fixtures being right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader, type Response } from 'maxmind';
import {
  bytes,
  double,
  float,
  int32,
  parseIp,
  uint128,
  uint16,
  uint64,
  writeMmdb,
  type MmdbNetwork,
} from '../../test/support/mmdb-writer.js';

const open = (buf: Buffer): Reader<Response> => new Reader<Response>(buf);
const lookup = (r: Reader<Response>, ip: string): [unknown, number] => r.getWithPrefixLength(ip);

test('parseIp handles IPv4, IPv6, :: forms and embedded IPv4', () => {
  assert.deepEqual([...parseIp('81.2.69.1')], [81, 2, 69, 1]);
  assert.deepEqual([...parseIp('::1')], [...new Array(15).fill(0), 1]);
  assert.deepEqual([...parseIp('2001:db8::ff00:42:8329')].slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  assert.deepEqual([...parseIp('::ffff:1.2.3.4')].slice(10), [0xff, 0xff, 1, 2, 3, 4]);
  assert.throws(() => parseIp('1.2.3'));
  assert.throws(() => parseIp('1:2:3:4:5:6:7:8:9'));
  assert.throws(() => parseIp('1::2::3'));
});

test('every data type round-trips through maxmind, with pointers and long sizes', () => {
  const record = {
    text: 'héllo wörld',
    empty: '',
    mid: 'm'.repeat(100), // size 29 + 1 byte
    long: 'l'.repeat(70_000), // size 31 + 3 bytes
    u16: uint16(65535),
    u32: 4_000_000_000,
    zero: 0,
    u64: uint64(2n ** 63n + 5n),
    u128: uint128(2n ** 100n),
    neg: -12,
    i32: int32(7),
    dbl: 51.5,
    wholeDouble: double(51),
    flt: float(1.5),
    yes: true,
    no: false,
    raw: bytes(Uint8Array.from([1, 2, 3])),
    list: ['a', 1, { nested: ['deep'] }],
    many: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
    again: 'héllo wörld', // becomes a pointer to `text`
  };
  for (const usePointers of [true, false]) {
    const r = open(writeMmdb({ databaseType: 'Types-Test', usePointers, networks: [{ cidr: '1.2.3.0/24', data: record }] }));
    const [got, prefix] = lookup(r, '1.2.3.4');
    assert.equal(prefix, 24);
    assert.deepEqual(got, {
      ...record,
      u16: 65535,
      u64: 2n ** 63n + 5n,
      u128: 2n ** 100n,
      i32: 7,
      wholeDouble: 51,
      flt: 1.5,
      raw: Buffer.from([1, 2, 3]),
    });
  }
});

test('pointers make repeated values smaller', () => {
  const networks: MmdbNetwork[] = Array.from({ length: 20 }, (_, i) => ({
    cidr: `10.0.${i}.0/24`,
    data: { country: { iso_code: 'GB', names: { en: 'United Kingdom' } }, n: i },
  }));
  const withPointers = writeMmdb({ databaseType: 'T', networks, buildEpoch: 1 });
  const without = writeMmdb({ databaseType: 'T', networks, buildEpoch: 1, usePointers: false });
  assert.ok(withPointers.length < without.length);
  assert.deepEqual(lookup(open(withPointers), '10.0.7.1'), lookup(open(without), '10.0.7.1'));
});

test('metadata holds what the spec requires', () => {
  const r = open(
    writeMmdb({
      databaseType: 'Meta-Test',
      buildEpoch: 1_700_000_000,
      languages: ['en', 'de'],
      description: { en: 'english', de: 'deutsch' },
      networks: [{ cidr: '1.0.0.0/8', data: 'x' }],
    }),
  );
  const m = r.metadata;
  assert.equal(m.databaseType, 'Meta-Test');
  assert.equal(m.ipVersion, 6);
  assert.equal(m.recordSize, 24);
  assert.equal(m.binaryFormatMajorVersion, 2);
  assert.equal(m.binaryFormatMinorVersion, 0);
  assert.equal(m.buildEpoch.toISOString(), new Date(1_700_000_000_000).toISOString());
  assert.deepEqual(m.languages, ['en', 'de']);
  assert.deepEqual(m.description, { en: 'english', de: 'deutsch' });
  assert.ok(m.nodeCount > 0);
});

test('IPv4 prefix lengths are IPv4-relative; IPv6 ones are 128-bit; nested networks split', () => {
  const r = open(
    writeMmdb({
      databaseType: 'Prefix-Test',
      networks: [
        { cidr: '81.2.69.128/25', data: 'inner' }, // listed first: order must not matter
        { cidr: '81.2.69.0/24', data: 'outer' },
        { cidr: '90.0.0.0/16', data: 'fr' },
        { cidr: '2a01:db8::/32', data: 'fr6' },
        { cidr: '2a02:db8:1::/48', data: 'gb6' },
      ],
    }),
  );
  assert.deepEqual(lookup(r, '81.2.69.200'), ['inner', 25]);
  assert.deepEqual(lookup(r, '81.2.69.10'), ['outer', 25]);
  assert.deepEqual(lookup(r, '90.0.255.255'), ['fr', 16]);
  assert.deepEqual(lookup(r, '2a01:db8:ffff::1'), ['fr6', 32]);
  assert.deepEqual(lookup(r, '2a02:db8:1:2::'), ['gb6', 48]);
  // IPv4 lives at ::a.b.c.d: the same record seen through IPv6 has a 96-bit longer prefix.
  assert.deepEqual(lookup(r, '::90.0.1.1'), ['fr', 112]);
  // Misses report the depth of the empty branch: 91 (01011011) shares 7 bits with 90 (01011010).
  assert.deepEqual(lookup(r, '91.0.0.1'), [null, 8]);
  assert.deepEqual(lookup(r, '2a03::1'), [null, 16]); // 2a03 shares 15 bits with 2a02
  // No ::ffff:0:0/96 alias is written, so mapped addresses miss (like ip-location-db's files).
  assert.equal(lookup(r, '::ffff:90.0.1.1')[0], null);
});

test('a /0 network covers everything', () => {
  const r = open(writeMmdb({ databaseType: 'T', networks: [{ cidr: '::/0', data: 'all' }, { cidr: '1.1.1.0/24', data: 'one' }] }));
  // The /0 data sits wherever the path leaves the branch towards ::1.1.1.0/120.
  assert.deepEqual(lookup(r, '2001:db8::1'), ['all', 3]);
  assert.deepEqual(lookup(r, '1.1.1.1'), ['one', 24]);
  assert.deepEqual(lookup(r, '9.9.9.9'), ['all', 5]);
});

test('IPv4-only databases (ip_version 4)', () => {
  const r = open(writeMmdb({ databaseType: 'T', ipVersion: 4, networks: [{ cidr: '81.2.69.0/24', data: 'gb' }] }));
  assert.equal(r.metadata.ipVersion, 4);
  assert.deepEqual(lookup(r, '81.2.69.1'), ['gb', 24]);
  assert.throws(() => writeMmdb({ databaseType: 'T', ipVersion: 4, networks: [{ cidr: '2001:db8::/32', data: 'x' }] }));
});

test('record sizes 24, 28 and 32 all read back, including record values above 2^24', () => {
  // An 18 MB first record pushes the second record's data offset past 2^24, which exercises
  // the 28-bit layout's shared middle byte.
  const big = ['x'.repeat(9 * 1024 * 1024), 'y'.repeat(9 * 1024 * 1024)];
  for (const recordSize of [28, 32] as const) {
    const r = open(
      writeMmdb({
        databaseType: 'T',
        recordSize,
        networks: [
          { cidr: '1.0.0.0/8', data: big },
          { cidr: '255.0.0.0/8', data: { far: true } },
          { cidr: 'ffff::/16', data: { far6: true } },
        ],
      }),
    );
    assert.equal(r.metadata.recordSize, recordSize);
    assert.deepEqual(lookup(r, '255.1.2.3'), [{ far: true }, 8]);
    assert.deepEqual(lookup(r, 'ffff::1'), [{ far6: true }, 16]);
    assert.deepEqual(lookup(r, '1.2.3.4'), [big, 8]);
  }
  const small = open(writeMmdb({ databaseType: 'T', recordSize: 32, networks: [{ cidr: '1.0.0.0/8', data: 1 }] }));
  assert.deepEqual(lookup(small, '1.9.9.9'), [1, 8]);
  assert.throws(() => writeMmdb({ databaseType: 'T', recordSize: 24, networks: [{ cidr: '1.0.0.0/8', data: big }, { cidr: '2.0.0.0/8', data: 2 }] }));
});

test('bad CIDRs are rejected', () => {
  assert.throws(() => writeMmdb({ databaseType: 'T', networks: [{ cidr: '81.2.69.1/24', data: 1 }] }), /host bits/);
  assert.throws(() => writeMmdb({ databaseType: 'T', networks: [{ cidr: '81.2.69.0/33', data: 1 }] }), /prefix/);
  assert.throws(() => writeMmdb({ databaseType: 'T', networks: [{ cidr: '81.2.69.0', data: 1 }] }), /CIDR/);
});
