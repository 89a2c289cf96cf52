/**
 * Issue 3, "Location": the database file is re-read when it changes on disk, without a restart
 * and without dropping queries; a corrupt file never replaces a good one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGeoFixtureBuffers, GEO_FIXTURE_NETWORKS } from '../support/geo-fixtures.js';
import { ask, cityRecord, geoZone, type GeoAnswer } from '../support/geo-zone.js';
import { writeMmdb } from '../support/mmdb-writer.js';
import { startTestServer } from '../support/start-test-server.js';

/** The fixture City database with the FR networks moved to Japan. */
function cityWithFranceInJapan(): Buffer {
  const networks = GEO_FIXTURE_NETWORKS.map((n) =>
    n.country === 'FR' ? { ...n, country: 'JP', continent: 'AS', subdivisions: ['13'], location: { lat: 35.6895, lon: 139.6917 } } : n,
  );
  return writeMmdb({
    databaseType: 'GeoIP2-City',
    languages: ['en'],
    buildEpoch: 1_760_000_000,
    networks: networks.map((n) => ({ cidr: n.cidr, data: cityRecord(n) })),
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it returns true, for at most `ms`. */
async function within(ms: number, check: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

test('a changed database file is picked up without a restart; a corrupt one keeps the old answers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-reload-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'GeoLite2-City.mmdb');
  const original = buildGeoFixtureBuffers().city;
  await writeFile(file, original);
  const server = await startTestServer({ zones: { 'example.test.yaml': geoZone() }, geoipFiles: [file], healthDisabled: true });
  t.after(() => server.close());
  const geo = server.running.geo!;
  assert.ok(geo, 'the server opened the geo database');

  // Queries keep flowing through every swap; none may fail or time out.
  let stop = false;
  const seen: GeoAnswer[] = [];
  const background = (async () => {
    while (!stop) {
      seen.push(await ask(server.v4, 'www', 'A', '2a01:db8::/32', { timeoutMs: 1000 }));
      await sleep(5);
    }
  })();
  t.after(async () => {
    stop = true;
    await background.catch(() => undefined);
  });

  const fr = await ask(server.v4, 'www', 'A', '2a01:db8::/32');
  assert.equal(fr.pool, 'paris', 'FR before the change');
  assert.equal((await ask(server.v4, 'near', 'A', '90.0.0.0/16')).pool, 'paris');

  // 1. Overwrite the file in place with a database that puts the FR networks in Japan.
  await writeFile(file, cityWithFranceInJapan());
  const moved = await within(5000, async () => (await ask(server.v4, 'www', 'A', '2a01:db8::/32')).pool === 'tokyo');
  assert.ok(moved, 'the new database answers within 5 s');
  assert.equal(geo.describe()[0]?.reloads, 1);
  // Country rule JP, and `near` (which has a country rule for JP) follows too; other networks are unchanged.
  assert.equal((await ask(server.v4, 'near', 'A', '90.0.0.0/16')).pool, 'tokyo');
  assert.equal((await ask(server.v4, 'www', 'A', '81.2.69.0/24')).pool, 'london');
  assert.equal((await ask(server.v4, 'www', 'A', '90.0.0.0/16')).ecs?.scope, 16);

  // 2. Write garbage over it: the reload fails and the previous database keeps answering.
  await writeFile(file, Buffer.from('this is not a MaxMind database\n'.repeat(64)));
  const rejected = await within(5000, () => geo.describe()[0]?.lastError !== undefined);
  assert.ok(rejected, `the corrupt file is looked at and rejected (${JSON.stringify(geo.describe())})`);
  for (const subnet of ['2a01:db8::/32', '90.0.0.0/16']) {
    assert.equal((await ask(server.v4, 'www', 'A', subnet)).pool, 'tokyo', `${subnet} still answered from the last good database`);
  }
  // A truncated copy of a real database (a half-finished download) is refused too.
  await writeFile(file, original.subarray(0, Math.floor(original.length / 2)));
  await sleep(600);
  assert.equal((await ask(server.v4, 'www', 'A', '2a01:db8::/32')).pool, 'tokyo');
  assert.equal(geo.describe()[0]?.reloads, 1, 'no bad file was swapped in');

  // 3. A good file again: back to France.
  await writeFile(file, original);
  const back = await within(5000, async () => (await ask(server.v4, 'www', 'A', '2a01:db8::/32')).pool === 'paris');
  assert.ok(back, 'the restored database answers within 5 s');
  assert.equal(geo.describe()[0]?.lastError, undefined);

  stop = true;
  await background;
  assert.ok(seen.length > 10, `queries kept flowing (${seen.length})`);
  for (const answer of seen) {
    assert.equal(answer.rcode, 'NOERROR');
    assert.ok(answer.pool === 'paris' || answer.pool === 'tokyo', `every answer is from one database or the other (${answer.addresses.join()})`);
  }
});
