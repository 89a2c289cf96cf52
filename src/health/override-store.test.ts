import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OverrideStore, type AppliedOverride } from './override-store.js';

async function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-overrides-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A store in `dir` that has written one override, `address` down, and what it told of its changes. */
async function storeWithDown(dir: string, address: string): Promise<{ file: string; store: OverrideStore; applied: AppliedOverride[] }> {
  const file = join(dir, 'health.json');
  const applied: AppliedOverride[] = [];
  const store = new OverrideStore(file, (change) => applied.push(change));
  await store.set(address, 'down');
  return { file, store, applied };
}

const readState = async (file: string): Promise<unknown> => JSON.parse(await readFile(file, 'utf8')) as unknown;

test('round trip: overrides are written atomically, under canonical addresses, and loaded by a new store', () =>
  withDir(async (dir) => {
    const file = join(dir, 'state', 'health.json');
    const applied: AppliedOverride[] = [];
    const a = new OverrideStore(file, (change) => applied.push(change));
    assert.equal(a.size, 0, 'a missing file is no overrides');
    assert.deepEqual(await a.set('127.0.9.6', 'up'), { address: '127.0.9.6', previous: null, state: 'up' });
    await a.set('2001:DB8:0::1', 'drained');
    await a.set('::ffff:192.0.2.7', 'down');
    assert.equal(a.get('2001:db8::1'), 'drained');
    assert.equal(a.get('::ffff:c000:207'), 'down', 'a v4-mapped address in its one canonical spelling');
    assert.deepEqual(applied.map((c) => c.address), ['127.0.9.6', '2001:db8::1', '::ffff:c000:207']);
    assert.equal(
      await readFile(file, 'utf8'),
      '{\n  "version": 1,\n  "overrides": {\n    "127.0.9.6": "up",\n    "2001:db8::1": "drained",\n    "::ffff:c000:207": "down"\n  }\n}\n',
      'sorted by address, as operations.md shows it',
    );
    assert.deepEqual(await readdir(join(dir, 'state')), ['health.json'], 'no temp files left behind');

    const b = new OverrideStore(file);
    assert.deepEqual([...b.entries()].sort(), [['127.0.9.6', 'up'], ['2001:db8::1', 'drained'], ['::ffff:c000:207', 'down']]);
    assert.deepEqual(await b.set('127.0.9.6', null), { address: '127.0.9.6', previous: 'up', state: null });
    assert.equal(b.get('127.0.9.6'), undefined);
    assert.deepEqual(await readState(file), { version: 1, overrides: { '2001:db8::1': 'drained', '::ffff:c000:207': 'down' } });
  }));

test('write first: when the state file cannot be written, the override is not applied and the reason is given', () =>
  withDir(async (dir) => {
    const { file, store, applied } = await storeWithDown(dir, '192.0.2.1');
    // A non-empty directory where the file should be: the rename onto it fails (for root too).
    await rm(file);
    await mkdir(join(file, 'in-the-way'), { recursive: true });
    await assert.rejects(store.set('192.0.2.2', 'drained'), (err: Error) => {
      assert.match(err.message, /^cannot write health state file .*health\.json: .*; the override was not changed$/);
      return true;
    });
    await assert.rejects(store.set('192.0.2.1', null), /the override was not changed/);
    assert.equal(store.get('192.0.2.2'), undefined, 'not in force');
    assert.equal(store.get('192.0.2.1'), 'down', 'the clear did not happen either');
    assert.deepEqual(applied.map((c) => c.address), ['192.0.2.1'], 'nobody was told of the failed changes');
    assert.deepEqual((await readdir(dir)).sort(), ['health.json'], 'no temp files left behind');

    // Writable again: the next change writes what is in force, without the failed ones.
    await rm(file, { recursive: true });
    await store.set('192.0.2.3', 'up');
    assert.deepEqual(await readState(file), { version: 1, overrides: { '192.0.2.1': 'down', '192.0.2.3': 'up' } });
  }));

test('a change to what is already in force writes nothing and tells nobody', () =>
  withDir(async (dir) => {
    const { file, store, applied } = await storeWithDown(dir, '192.0.2.1');
    await rm(file);
    assert.equal(await store.set('192.0.2.1', 'down'), null);
    assert.equal(await store.set('192.0.2.9', null), null);
    assert.deepEqual(await readdir(dir), [], 'no write');
    assert.equal(applied.length, 1);
  }));

test('changes asked for at once are written one after another, each with those before it', () =>
  withDir(async (dir) => {
    const file = join(dir, 'health.json');
    const applied: string[] = [];
    const store = new OverrideStore(file, (change) => applied.push(`${change.address}=${change.state}`));
    const all = [store.set('192.0.2.1', 'down'), store.set('192.0.2.2', 'up'), store.set('192.0.2.1', null), store.set('192.0.2.3', 'drained')];
    await Promise.all(all);
    await store.settled();
    assert.deepEqual(applied, ['192.0.2.1=down', '192.0.2.2=up', '192.0.2.1=null', '192.0.2.3=drained']);
    assert.deepEqual(await readState(file), { version: 1, overrides: { '192.0.2.2': 'up', '192.0.2.3': 'drained' } });
  }));

test('without a state file, changes apply in memory', async () => {
  const store = new OverrideStore(undefined);
  await store.set('192.0.2.1', 'drained');
  assert.equal(store.get('192.0.2.1'), 'drained');
});

test('bad addresses and states are refused and change nothing', async () => {
  const store = new OverrideStore(undefined);
  await assert.rejects(store.set('not-an-ip', 'down'), TypeError);
  await assert.rejects(store.set('192.0.2.1', 'sideways' as 'down'), /bad override state/);
  assert.equal(store.size, 0);
});

test('a corrupt or unreadable state file is refused at construction, naming the file', () =>
  withDir(async (dir) => {
    const file = join(dir, 'health.json');
    const cases: [text: string, error: RegExp][] = [
      ['{ truncated', /health state file .*health\.json: .*JSON/],
      ['{"overrides": {"127.0.0.1": "sideways"}}', /bad override "127\.0\.0\.1": "sideways"/],
      ['{"overrides": {"not-an-ip": "down"}}', /bad override "not-an-ip"/],
      ['{"overrides": {"127.0.0.1": 1}}', /bad override "127\.0\.0\.1": 1/],
      ['{"overrides": ["127.0.0.1"]}', /no "overrides" object/],
      ['{"version": 1}', /no "overrides" object/],
      ['null', /no "overrides" object/],
    ];
    for (const [text, error] of cases) {
      await writeFile(file, text);
      assert.throws(() => new OverrideStore(file), error, text);
    }
    await rm(file);
    await mkdir(file);
    assert.throws(() => new OverrideStore(file), /EISDIR/, 'a file that cannot be read is not taken for an empty one');
  }));
