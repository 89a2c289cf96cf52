import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildGeoFixtures, type GeoFixturePaths } from '../../test/support/geo-fixtures.js';
import { writeMmdb } from '../../test/support/mmdb-writer.js';
import { openGeoLocator, type GeoDatabaseInfo, type GeoLocatorHandle, type GeoLocatorOptions } from './index.js';

interface LogLine {
  level: number;
  msg: string;
  file?: string;
  reason?: string;
}

function capturingLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

async function setup(
  t: TestContext,
  options: Partial<GeoLocatorOptions> = {},
): Promise<{ dir: string; paths: GeoFixturePaths; geo: GeoLocatorHandle; lines: LogLine[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-reload-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const paths = await buildGeoFixtures(dir);
  const { logger, lines } = capturingLogger();
  const geo = await openGeoLocator([paths.city, paths.asn], { logger, watch: false, ...options });
  t.after(() => geo.close());
  return { dir, paths, geo, lines };
}

// A replacement City database in which GB's /24 now belongs to FR (and nothing else exists).
const movedCity = (): Buffer =>
  writeMmdb({
    databaseType: 'GeoIP2-City',
    networks: [{ cidr: '81.2.69.0/24', data: { continent: { code: 'EU' }, country: { iso_code: 'FR' } } }],
  });

// Write elsewhere then rename over: how mmdb updaters (and `mv`) replace a file.
async function replace(file: string, content: Buffer): Promise<void> {
  await writeFile(`${file}.tmp`, content);
  await rename(`${file}.tmp`, file);
}

function nextReload(geo: GeoLocatorHandle, timeoutMs = 5000): Promise<GeoDatabaseInfo> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('no reload within timeout'));
    }, timeoutMs);
    const off = geo.onReload((info) => {
      clearTimeout(timer);
      off();
      resolve(info);
    });
  });
}

test('reload() picks up a changed file, bumps version and notifies listeners', async (t) => {
  const { paths, geo, lines } = await setup(t);
  assert.equal(geo.locate('81.2.69.10', 4).country, 'GB');
  const seen: GeoDatabaseInfo[] = [];
  geo.onReload((info) => seen.push(info));
  await replace(paths.city, movedCity());
  await geo.reload();
  const loc = geo.locate('81.2.69.10', 4);
  assert.deepEqual([loc.country, loc.locationPrefixLength, loc.asn], ['FR', 24, 20712]);
  assert.equal(geo.locate('90.0.1.1', 4).country, undefined);
  // Both files were re-read on an explicit reload.
  assert.equal(geo.version, 2);
  assert.deepEqual(seen.map((s) => s.kind).sort(), ['asn', 'location']);
  assert.equal(geo.describe()[0]?.reloads, 1);
  assert.ok(lines.some((l) => l.file === paths.city && /reloaded/.test(l.msg)));
});

test('a corrupt or truncated file logs an error and keeps the old reader', async (t) => {
  const { paths, geo, lines } = await setup(t);
  const good = await readFile(paths.city);
  for (const bad of [Buffer.from('garbage'), good.subarray(0, good.length - 40), good.subarray(0, 100), Buffer.alloc(0)]) {
    lines.length = 0;
    await writeFile(paths.city, bad);
    await geo.reload();
    assert.equal(geo.locate('81.2.69.10', 4).country, 'GB');
    const error = lines.find((l) => l.level === 50);
    assert.ok(error, 'an error line');
    assert.equal(error.file, paths.city);
    assert.equal(typeof error.reason, 'string');
    assert.ok(geo.describe()[0]?.lastError);
  }
  assert.equal(geo.describe()[0]?.reloads, 0);
  const versionBefore = geo.version;
  // A good file afterwards is taken, and the error is cleared.
  await replace(paths.city, movedCity());
  await geo.reload();
  assert.equal(geo.locate('81.2.69.10', 4).country, 'FR');
  assert.equal(geo.describe()[0]?.lastError, undefined);
  assert.ok(geo.version > versionBefore);
});

test('a file replaced by a different kind of database is refused', async (t) => {
  const { paths, geo, lines } = await setup(t);
  await replace(paths.city, await readFile(paths.asn));
  await geo.reload();
  assert.equal(geo.locate('81.2.69.10', 4).country, 'GB');
  assert.ok(lines.some((l) => l.level === 50 && /now a asn database/.test(l.reason ?? '')));
});

test('a deleted file keeps the old reader', async (t) => {
  const { paths, geo, lines } = await setup(t);
  await unlink(paths.city);
  await geo.reload();
  assert.equal(geo.locate('81.2.69.10', 4).country, 'GB');
  assert.ok(lines.some((l) => l.level === 50 && /ENOENT/.test(l.reason ?? '')));
});

test('the watcher reloads after mv replaces the file', async (t) => {
  const { paths, geo } = await setup(t, { watch: true, debounceMs: 20 });
  const reloaded = nextReload(geo);
  await replace(paths.city, movedCity());
  const info = await reloaded;
  assert.equal(info.file, paths.city);
  assert.equal(geo.locate('81.2.69.10', 4).country, 'FR');
  assert.equal(geo.version, 1);
});

test('the watcher reloads after an in-place rewrite', async (t) => {
  const { paths, geo } = await setup(t, { watch: true, debounceMs: 20 });
  const reloaded = nextReload(geo);
  await writeFile(paths.city, movedCity());
  await reloaded;
  assert.equal(geo.locate('81.2.69.10', 4).country, 'FR');
});

test('the watcher logs a bad file once and keeps serving', async (t) => {
  const { paths, geo, lines } = await setup(t, { watch: true, debounceMs: 20 });
  await writeFile(paths.city, 'half a database');
  await new Promise((r) => setTimeout(r, 300));
  // Unrelated activity in the directory re-checks, but the same bad content is not logged again.
  await writeFile(`${paths.city}.unrelated`, 'x');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(lines.filter((l) => l.level === 50 && l.file === paths.city).length, 1);
  assert.equal(geo.locate('81.2.69.10', 4).country, 'GB');
  const reloaded = nextReload(geo);
  await replace(paths.city, movedCity());
  await reloaded;
  assert.equal(geo.locate('81.2.69.10', 4).country, 'FR');
});

test('the stat poll alone notices a change (no directory events)', async (t) => {
  const { paths, geo } = await setup(t, { watch: 'poll', debounceMs: 20, pollIntervalMs: 50 });
  const reloaded = nextReload(geo);
  await replace(paths.city, movedCity());
  await reloaded;
  assert.equal(geo.locate('81.2.69.10', 4).country, 'FR');
});

test('close() stops watching', async (t) => {
  const { paths, geo } = await setup(t, { watch: true, debounceMs: 20, pollIntervalMs: 50 });
  await geo.close();
  await replace(paths.city, movedCity());
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(geo.version, 0);
  assert.equal(geo.locate('81.2.69.10', 4).country, 'GB');
});
