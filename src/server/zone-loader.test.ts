import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCompiledZoneParser } from '../../test/support/compiled-build.js';
import { ALL_MEMBERS_UP } from '../health/index.js';
import { silentLogger } from '../telemetry/index.js';
import { RevisionRejectedError } from '../zone-revisions/index.js';
import { EMPTY_CATALOG, type ZoneCatalog } from '../zones/index.js';
import { AllDownWatch } from './all-down-watch.js';
import { ZoneLoader } from './zone-loader.js';
import { ZoneSet } from './zone-set.js';

// Each load starts a zone parser thread (keepParserWarm: false); the bundled one, when `npm test` built it,
// loads in about a third of the CPU of one that registers tsx, as in the end-to-end servers.
useCompiledZoneParser();

const zoneText = (origin: string, address: string): string =>
  `zone: ${origin}\nsoa: { mname: ns1.${origin}, rname: h.${origin}, serial: 1 }\nrecords:\n  "@": { NS: [ns1.${origin}] }\n  ns1: { A: 192.0.2.53 }\n  www: { A: ${address} }\n`;

async function folder(root: string, name: string, files: Record<string, string>): Promise<string> {
  const path = join(root, name);
  await mkdir(path);
  for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
  return path;
}

test('whole folders: a revision folder with one bad file is refused whole and the zones before keep serving; a good one swaps in, unchanged zones kept', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'meridian-loader-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  let catalog: ZoneCatalog = EMPTY_CATALOG;
  const logger = silentLogger();
  const loader = new ZoneLoader({
    zonesPath: join(root, 'unused'),
    wholeFolders: true,
    keepParserWarm: false,
    zones: new ZoneSet(logger),
    probes: null,
    catalog: { current: () => catalog, swap: (next) => (catalog = next) },
    allDown: new AllDownWatch(() => ({ catalog, health: ALL_MEMBERS_UP }), logger, logger),
    announce: logger,
    logger,
  });
  const first = await folder(root, '1', { 'a.yaml': zoneText('a.test', '192.0.2.1'), 'b.yaml': zoneText('b.test', '192.0.2.2') });
  await loader.start(first);
  const [zoneA, zoneB] = catalog.zones;
  assert.deepEqual(catalog.zones.map((z) => z.origin), ['a.test', 'b.test']);

  const broken = await folder(root, '2', { 'a.yaml': zoneText('a.test', '192.0.2.9'), 'b.yaml': zoneText('b.test', '192.0.2.300') });
  const refusal = await loader.switchTo(broken).then(
    () => assert.fail('a folder with a bad file must be refused'),
    (error: unknown) => error,
  );
  assert.ok(refusal instanceof RevisionRejectedError);
  assert.deepEqual(refusal.diagnostics.map((d) => [d.file, d.code]), [['b.yaml', 'bad-address']], 'named as in the revision, not by the folder');
  assert.equal(catalog.zones[0], zoneA, 'a.test is not half-applied from the refused folder');
  assert.equal(loader.path, first);
  assert.equal(loader.reloadErrors, 0, 'a refusal is the follower’s to report');

  const third = await folder(root, '3', { 'a.yaml': zoneText('a.test', '192.0.2.1'), 'b.yaml': zoneText('b.test', '192.0.2.3') });
  const report = await loader.switchTo(third);
  assert.deepEqual(report.loaded, ['b.yaml']);
  assert.equal(catalog.zones[0], zoneA, 'the unchanged zone is the same compiled zone');
  assert.notEqual(catalog.zones[1], zoneB);
  assert.equal(loader.path, third);
});
