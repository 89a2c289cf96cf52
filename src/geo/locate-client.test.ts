import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../telemetry/logger.js';
import {
  ASN_FIXTURE_NETWORKS,
  buildGeoFixtures,
  GEO_FIXTURE_MISS,
  GEO_FIXTURE_NETWORKS,
  type GeoFixturePaths,
} from '../../test/support/geo-fixtures.js';
import { writeMmdb } from '../../test/support/mmdb-writer.js';
import { countryCentroid } from './country-centroids.js';
import { GeoDatabaseError, normaliseClientAddress, openGeoLocator, type GeoLocatorHandle } from './index.js';

async function fixtures(t: TestContext): Promise<{ dir: string; paths: GeoFixturePaths }> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return { dir, paths: await buildGeoFixtures(dir) };
}

async function open(t: TestContext, files: string[]): Promise<GeoLocatorHandle> {
  const geo = await openGeoLocator(files, { logger: silentLogger(), watch: false });
  t.after(() => geo.close());
  return geo;
}

const familyOf = (ip: string): 4 | 6 => (ip.includes(':') ? 6 : 4);
const locate = (geo: GeoLocatorHandle, ip: string) => geo.locate(ip, familyOf(ip));

test('City database: country, continent, subdivisions, coordinates and prefix lengths', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.city]);
  for (const n of GEO_FIXTURE_NETWORKS) {
    const loc = locate(geo, n.probe);
    assert.equal(loc.country, n.country, n.probe);
    assert.equal(loc.continent, n.continent, n.probe);
    assert.deepEqual(loc.subdivisions, n.subdivisions.length ? n.subdivisions.map((s) => `${n.country}-${s}`) : undefined, n.probe);
    assert.deepEqual(loc.coordinates, n.location ?? countryCentroid(n.country), n.probe);
    assert.equal(loc.locationPrefixLength, n.prefixLength, n.probe);
    assert.equal(loc.asnPrefixLength, 0);
    assert.equal(loc.asn, undefined);
  }
  assert.deepEqual(geo.describe().map((d) => [d.kind, d.schema, d.databaseType, d.ipVersion]), [['location', 'city', 'GeoIP2-City', 6]]);
  assert.equal(geo.describe()[0]?.buildDate, new Date(1_750_000_000_000).toISOString());
});

test('the nested /25 overrides its /24, and both halves report /25', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.city]);
  assert.deepEqual([locate(geo, '81.2.69.127').country, locate(geo, '81.2.69.127').locationPrefixLength], ['GB', 25]);
  assert.deepEqual([locate(geo, '81.2.69.128').country, locate(geo, '81.2.69.128').locationPrefixLength], ['IE', 25]);
  assert.deepEqual(locate(geo, '81.2.69.128').subdivisions, ['IE-L']);
});

test('Country database: centroid coordinates, no subdivisions', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.country]);
  assert.equal(geo.describe()[0]?.schema, 'country');
  for (const n of GEO_FIXTURE_NETWORKS) {
    const loc = locate(geo, n.probe);
    assert.equal(loc.country, n.country);
    assert.equal(loc.continent, n.continent);
    assert.equal(loc.subdivisions, undefined);
    assert.deepEqual(loc.coordinates, countryCentroid(n.country));
    assert.equal(loc.locationPrefixLength, n.prefixLength);
  }
});

test('flat country_code database: continent from the table, centroid coordinates', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.flat]);
  assert.equal(geo.describe()[0]?.schema, 'flat');
  for (const n of GEO_FIXTURE_NETWORKS) {
    const loc = locate(geo, n.probe);
    assert.equal(loc.country, n.country, n.probe);
    assert.equal(loc.continent, n.continent, n.probe);
    assert.equal(loc.subdivisions, undefined);
    assert.deepEqual(loc.coordinates, countryCentroid(n.country));
    assert.equal(loc.locationPrefixLength, n.prefixLength, n.probe);
  }
});

test('misses leave fields undefined but report the empty network prefix', async (t) => {
  const { paths } = await fixtures(t);
  for (const file of [paths.city, paths.country, paths.flat]) {
    const geo = await open(t, [file, paths.asn]);
    const v4 = locate(geo, GEO_FIXTURE_MISS.ipv4);
    assert.deepEqual(
      [v4.country, v4.continent, v4.subdivisions, v4.coordinates, v4.asn],
      [undefined, undefined, undefined, undefined, undefined],
    );
    assert.equal(v4.locationPrefixLength, GEO_FIXTURE_MISS.ipv4PrefixLength);
    assert.equal(v4.asnPrefixLength, GEO_FIXTURE_MISS.ipv4PrefixLength);
    const v6 = locate(geo, GEO_FIXTURE_MISS.ipv6);
    assert.equal(v6.country, undefined);
    assert.equal(v6.locationPrefixLength, GEO_FIXTURE_MISS.ipv6PrefixLength);
    // Inside 81.2/16 but outside 81.2.69/24: a location miss, an ASN hit.
    const partial = locate(geo, '81.2.70.1');
    assert.equal(partial.country, undefined);
    assert.equal(partial.locationPrefixLength, 23);
    assert.equal(partial.asn, 20712);
    assert.equal(partial.asnPrefixLength, 16);
  }
});

test('City + ASN combined: both halves with their own prefix lengths', async (t) => {
  const { paths } = await fixtures(t);
  // Order of the files does not matter.
  const geo = await open(t, [paths.asn, paths.city]);
  assert.deepEqual(geo.describe().map((d) => d.kind), ['location', 'asn']);
  for (const a of ASN_FIXTURE_NETWORKS) {
    const loc = locate(geo, a.probe);
    assert.equal(loc.asn, a.asn);
    assert.equal(loc.asnPrefixLength, a.prefixLength);
  }
  const gb = locate(geo, '81.2.69.10');
  assert.deepEqual(
    [gb.country, gb.subdivisions, gb.asn, gb.locationPrefixLength, gb.asnPrefixLength],
    ['GB', ['GB-ENG'], 20712, 25, 16],
  );
  const jp = locate(geo, '133.1.2.3');
  // The ASN fixture's IPv4 networks (81/16, 90/16) all start with bit 0, so 133 leaves at /1.
  assert.deepEqual([jp.country, jp.asn, jp.locationPrefixLength, jp.asnPrefixLength], ['JP', undefined, 12, 1]);
});

test('ASN database alone', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.asn]);
  const loc = locate(geo, '2a02:db8:1::1');
  assert.deepEqual([loc.country, loc.asn, loc.locationPrefixLength, loc.asnPrefixLength], [undefined, 20712, 0, 48]);
});

test('::ffff: addresses only resolve once normalised', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.flat]);
  const raw = geo.locate('::ffff:81.2.69.10', 6);
  assert.equal(raw.country, undefined); // the database has no ::ffff:0:0/96 alias
  const n = normaliseClientAddress('::ffff:81.2.69.10');
  const loc = geo.locate(n.address, n.family);
  assert.deepEqual([loc.country, loc.locationPrefixLength], ['GB', 25]);
});

test('results share frozen parts and keep one shape', async (t) => {
  const { paths } = await fixtures(t);
  const geo = await open(t, [paths.city, paths.asn]);
  const a = locate(geo, '81.2.69.10');
  const b = locate(geo, '81.2.69.11');
  assert.notEqual(a, b);
  assert.equal(a.subdivisions, b.subdivisions);
  assert.equal(a.coordinates, b.coordinates);
  assert.ok(Object.isFrozen(a.subdivisions) && Object.isFrozen(a.coordinates));
  assert.deepEqual(Object.keys(locate(geo, '10.0.0.1')), Object.keys(a));
});

test('an IPv4-only database answers IPv6 with a /0 miss', async (t) => {
  const { dir } = await fixtures(t);
  const file = join(dir, 'v4.mmdb');
  await writeFile(file, writeMmdb({ databaseType: 'country ipv4', ipVersion: 4, networks: [{ cidr: '81.2.69.0/24', data: { country_code: 'GB' } }] }));
  const geo = await open(t, [file]);
  assert.deepEqual([locate(geo, '81.2.69.1').country, locate(geo, '81.2.69.1').locationPrefixLength], ['GB', 24]);
  const v6 = locate(geo, '2a02:db8:1::1');
  assert.deepEqual([v6.country, v6.locationPrefixLength], [undefined, 0]);
});

test('opening rejects duplicates, unknown schemas and non-mmdb files', async (t) => {
  const { dir, paths } = await fixtures(t);
  await assert.rejects(openGeoLocator([paths.city, paths.flat], { logger: silentLogger(), watch: false }), (err: unknown) => {
    assert.ok(err instanceof GeoDatabaseError);
    assert.match(err.reason, /second location database/);
    return true;
  });
  await assert.rejects(openGeoLocator([paths.asn, paths.asn], { logger: silentLogger(), watch: false }), /second asn/);
  await assert.rejects(openGeoLocator([], { logger: silentLogger() }), GeoDatabaseError);

  const junk = join(dir, 'junk.mmdb');
  await writeFile(junk, 'not a database at all');
  await assert.rejects(openGeoLocator([junk], { logger: silentLogger(), watch: false }), /no MaxMind DB metadata/);

  const odd = join(dir, 'odd.mmdb');
  await writeFile(odd, writeMmdb({ databaseType: 'Odd', networks: [{ cidr: '1.0.0.0/8', data: { colour: 'blue' } }] }));
  await assert.rejects(openGeoLocator([odd], { logger: silentLogger(), watch: false }), /unrecognised records/);

  const empty = join(dir, 'empty.mmdb');
  await writeFile(empty, writeMmdb({ databaseType: 'Empty', networks: [] }));
  await assert.rejects(openGeoLocator([empty], { logger: silentLogger(), watch: false }), /no records/);

  await assert.rejects(openGeoLocator([join(dir, 'missing.mmdb')], { logger: silentLogger(), watch: false }), /ENOENT/);
});

test('truncated files are rejected at every length', async (t) => {
  const { dir, paths } = await fixtures(t);
  const { readFile } = await import('node:fs/promises');
  const whole = await readFile(paths.city);
  const file = join(dir, 'cut.mmdb');
  for (let len = 0; len < whole.length; len += 97) {
    await writeFile(file, whole.subarray(0, len));
    await assert.rejects(openGeoLocator([file], { logger: silentLogger(), watch: false }), GeoDatabaseError, `length ${len}`);
  }
});
