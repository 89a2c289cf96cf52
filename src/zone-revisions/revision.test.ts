import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  contentHashOf,
  decodeRevision,
  describeChanges,
  diffRevisions,
  encodeRevision,
  markRevisionServed,
  planRevision,
  readServedRevision,
  RevisionFormatError,
  serialNotes,
  writeRevisionFolder,
  type CandidateFile,
} from './index.js';

const zoneText = (zone: string, address: string): string => `zone: ${zone}\nsoa: { mname: ns1.${zone}, rname: h.${zone} }\nrecords:\n  www: { A: ${address} }\n`;

function candidate(name: string, zone: string, address: string, timeSeconds: number, explicitSerial: number | null = null): CandidateFile {
  return { name, zone, text: zoneText(zone, address), explicitSerial, timeSeconds };
}

const meta = (number: number, message = 'm') => ({ number, createdAt: '2026-12-03T08:00:00.000Z', message });

test('the first revision adds every zone, with the written serial or the file time as derived serial', () => {
  const revision = planRevision([candidate('b.yaml', 'b.test', '192.0.2.2', 1000, 7), candidate('a.yaml', 'a.test', '192.0.2.1', 1000)], null, meta(1));
  assert.deepEqual(revision.files.map((f) => f.name), ['a.yaml', 'b.yaml'], 'files in name order');
  assert.deepEqual(revision.changes, [
    { zone: 'a.test', file: 'a.yaml', change: 'added', serial: 1000 },
    { zone: 'b.test', file: 'b.yaml', change: 'added', serial: 7 },
  ]);
  assert.deepEqual(revision.zones.map((z) => z.serial), [1000, 7]);
  assert.equal(revision.contentHash, contentHashOf(revision.files));
});

test('an unchanged zone keeps its derived serial even when its file is newer; a changed one grows past the last', () => {
  const first = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 5000), candidate('b.yaml', 'b.test', '192.0.2.2', 5000)], null, meta(1));
  // A fresh checkout: every file newer, only b edited, and its time is older than the last serial.
  const second = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 9000), candidate('b.yaml', 'b.test', '192.0.2.9', 4000)], first, meta(2));
  assert.deepEqual(second.changes, [{ zone: 'b.test', file: 'b.yaml', change: 'changed', serial: 5001 }]);
  assert.equal(second.files[0]!.modifiedSeconds, 5000, 'a.test keeps its serial');
});

test('a removed zone is reported with the serial it had; a zone moved to another file with the same text is unchanged', () => {
  const first = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 10), candidate('b.yaml', 'b.test', '192.0.2.2', 10, 3)], null, meta(1));
  const moved = { ...first.files[0]!, name: 'renamed.yaml' };
  assert.deepEqual(diffRevisions(first.files, [moved]), [{ zone: 'b.test', file: 'b.yaml', change: 'removed', serial: 3 }]);
  assert.deepEqual(describeChanges(diffRevisions(first.files, [moved])), ['b.test removed (b.yaml, serial 3)']);
});

test('the content hash depends on names and texts, not on order or times', () => {
  const a = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 1), candidate('b.yaml', 'b.test', '192.0.2.2', 1)], null, meta(1));
  const b = planRevision([candidate('b.yaml', 'b.test', '192.0.2.2', 99), candidate('a.yaml', 'a.test', '192.0.2.1', 99)], null, meta(2));
  const c = planRevision([candidate('a.yaml', 'a.test', '192.0.2.3', 1), candidate('b.yaml', 'b.test', '192.0.2.2', 1)], null, meta(3));
  assert.equal(a.contentHash, b.contentHash);
  assert.notEqual(a.contentHash, c.contentHash);
});

test('a revision survives encoding; damage, unknown formats and unsafe file names are refused', () => {
  const revision = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 1)], null, meta(4, 'move www'));
  assert.deepEqual(decodeRevision(encodeRevision(revision)), revision);
  const tampered = { ...revision, files: [{ ...revision.files[0]!, text: zoneText('a.test', '192.0.2.66') }] };
  assert.throws(() => decodeRevision(gzipSync(JSON.stringify(tampered))), /does not match its hash/);
  assert.throws(() => decodeRevision(gzipSync(JSON.stringify({ ...revision, format: 99 }))), /format 99/);
  for (const name of ['../escape.yaml', '.hidden.yaml', 'sub/dir.yaml', 'notes.txt']) {
    const files = [{ ...revision.files[0]!, name }];
    assert.throws(() => decodeRevision(gzipSync(JSON.stringify({ ...revision, files, contentHash: contentHashOf(files) }))), RevisionFormatError, name);
  }
  assert.throws(() => decodeRevision(Buffer.from('plain text')), /not a zone revision/);
});

test('a revision written to the state folder carries its times, and the served one is found again after a restart', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'meridian-revisions-'));
  try {
    assert.equal(await readServedRevision(stateDir), null);
    const first = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 1_700_000_000)], null, meta(1));
    const cachedFirst = await writeRevisionFolder(stateDir, first);
    await markRevisionServed(stateDir, cachedFirst);
    assert.equal(Math.floor((await stat(join(cachedFirst.folder, 'a.yaml'))).mtimeMs / 1000), 1_700_000_000);
    const second = planRevision([candidate('a.yaml', 'a.test', '192.0.2.2', 1_700_000_100)], first, meta(2));
    const cachedSecond = await writeRevisionFolder(stateDir, second);
    // Written but not yet served: a restart still finds the first.
    assert.equal((await readServedRevision(stateDir))?.summary.number, 1);
    await markRevisionServed(stateDir, cachedSecond);
    const served = await readServedRevision(stateDir);
    assert.equal(served?.summary.number, 2);
    assert.equal(await readFile(join(served!.folder, 'a.yaml'), 'utf8'), second.files[0]!.text);
    assert.deepEqual((await readdir(join(stateDir, 'zone-revisions'))).sort(), ['2', 'served.json'], 'older revisions are removed');
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});

test('a changed zone whose written serial stays or goes back is noted; a raised or derived serial is not', () => {
  const first = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 10, 5), candidate('b.yaml', 'b.test', '192.0.2.2', 10)], null, meta(1));
  const same = planRevision([candidate('a.yaml', 'a.test', '192.0.2.9', 10, 5), candidate('b.yaml', 'b.test', '192.0.2.9', 10)], first, meta(2));
  assert.deepEqual(serialNotes(first, same), ['a.test changed but its serial stays 5: raise "serial:" under "soa:" so secondaries, caches and monitors see the change']);
  const back = planRevision([candidate('a.yaml', 'a.test', '192.0.2.1', 10, 4), candidate('b.yaml', 'b.test', '192.0.2.9', 10)], same, meta(3));
  assert.match(serialNotes(same, back).join(), /^the serial of a\.test goes back from 5 to 4;/);
  const raised = planRevision([candidate('a.yaml', 'a.test', '192.0.2.7', 10, 6), candidate('b.yaml', 'b.test', '192.0.2.9', 10)], back, meta(4));
  assert.deepEqual(serialNotes(back, raised), []);
  assert.deepEqual(serialNotes(null, first), [], 'an added zone has nothing to compare with');
});
