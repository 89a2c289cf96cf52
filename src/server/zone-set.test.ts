import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../test/support/capture-logger.js';
import type { Logger } from '../telemetry/index.js';
import { parseZoneFile, type FileLoad } from '../zones/index.js';
import { ZoneSet } from './zone-set.js';

function capture(): { logger: Logger; messages: () => string[] } {
  const { logger, lines } = captureLogger();
  return { logger, messages: () => lines().map((line) => String(line.msg)) };
}

function zoneText(origin: string, address: string, serial: number | null = 1): string {
  const soa = serial === null ? `{ mname: ns1.${origin}, rname: hostmaster.${origin} }` : `{ mname: ns1.${origin}, rname: hostmaster.${origin}, serial: ${serial} }`;
  return `zone: ${origin}\nttl: 60\nsoa: ${soa}\nrecords:\n  "@": { NS: [ns1.${origin}] }\n  ns1: { A: 192.0.2.53 }\n  www: { A: ${address} }\n`;
}

function load(file: string, text: string): FileLoad {
  const result = parseZoneFile(file, text);
  return result.ok ? { file, ok: true, source: result.zone } : { file, ok: false, diagnostics: result.diagnostics };
}

const origins = (set: { catalog: { zones: readonly { origin: string }[] } }): string[] => set.catalog.zones.map((z) => z.origin).sort();

test('the first read compiles every valid file, records each file, and counts no reloads', async () => {
  const zones = new ZoneSet(capture().logger);
  const change = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1')), load('b.yaml', zoneText('b.test', '192.0.2.2', 7))], { reload: false });
  assert.deepEqual(origins(change), ['a.test', 'b.test']);
  assert.deepEqual(change.loaded, ['a.yaml', 'b.yaml']);
  assert.deepEqual(
    zones.files().map((f) => [f.file, f.origin, f.serial, f.ok]),
    [
      ['a.yaml', 'a.test', 1, true],
      ['b.yaml', 'b.test', 7, true],
    ],
  );
  assert.deepEqual(zones.reloads, { ok: 0, failed: 0 });
});

test('an unchanged file is not compiled again: the same compiled zone keeps serving', async () => {
  const zones = new ZoneSet(capture().logger);
  const first = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1'))], { reload: false });
  const again = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1'))], { reload: true });
  assert.deepEqual(again.loaded, []);
  assert.equal(again.catalog.zones[0], first.catalog.zones[0]);
  assert.deepEqual(zones.reloads, { ok: 0, failed: 0 });
});

test('a broken edit keeps the last good zone serving and shows its diagnostics until reverted', async () => {
  const log = capture();
  const zones = new ZoneSet(log.logger);
  const good = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1', 3))], { reload: false });
  const broken = await zones.apply([load('a.yaml', zoneText('a.test', '300.0.0.1', 4))], { reload: true });
  assert.deepEqual(broken.failed, ['a.yaml']);
  assert.equal(broken.catalog.zones[0], good.catalog.zones[0], 'the last good version serves');
  const [state] = zones.files();
  assert.equal(state!.ok, false);
  assert.equal(state!.origin, 'a.test');
  assert.equal(state!.serial, 3, 'the serial being served, not the broken file’s');
  assert.ok(state!.diagnostics.length > 0);
  assert.deepEqual(zones.reloads, { ok: 0, failed: 1 });
  assert.ok(log.messages().includes('zone file rejected; still serving the last good version'));

  const reverted = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1', 3))], { reload: true });
  assert.deepEqual(reverted.loaded, [], 'reverting to the served content compiles nothing');
  assert.equal(zones.files()[0]!.ok, true);
  assert.deepEqual(zones.files()[0]!.diagnostics, []);
});

test('an edited file is compiled in slices on reload and counted', async () => {
  const zones = new ZoneSet(capture().logger);
  await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1', 1))], { reload: false });
  const edited = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.9', 2))], { reload: true });
  assert.deepEqual(edited.loaded, ['a.yaml']);
  assert.equal(edited.catalog.zones[0]!.serial, 2);
  assert.deepEqual(zones.reloads, { ok: 1, failed: 0 });
});

test('a file that is gone unloads its zone and its state', async () => {
  const log = capture();
  const zones = new ZoneSet(log.logger);
  await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1')), load('b.yaml', zoneText('b.test', '192.0.2.2'))], { reload: false });
  const change = await zones.apply([load('b.yaml', zoneText('b.test', '192.0.2.2'))], { reload: true });
  assert.deepEqual(change.unloaded, ['a.yaml']);
  assert.deepEqual(origins(change), ['b.test']);
  assert.deepEqual(zones.files().map((f) => f.file), ['b.yaml']);
  assert.ok(log.messages().includes('zone file removed; zone unloaded'));
});

test('a file that never loaded is listed with no origin and serves nothing', async () => {
  const zones = new ZoneSet(capture().logger);
  const change = await zones.apply([load('bad.yaml', 'zone: [')], { reload: false });
  assert.deepEqual(change.catalog.zones, []);
  assert.deepEqual(zones.files().map((f) => [f.file, f.origin, f.ok]), [['bad.yaml', null, false]]);
});

test('one origin kept by two files: the first file (in name order) serves it, and the other is reported', async () => {
  const log = capture();
  const zones = new ZoneSet(log.logger);
  await zones.apply([load('a.yaml', zoneText('x.test', '192.0.2.1', 1)), load('b.yaml', zoneText('y.test', '192.0.2.2', 1))], { reload: false });
  // a.yaml breaks (its last good x.test stays), and b.yaml now defines x.test too.
  const change = await zones.apply([load('a.yaml', 'zone: ['), load('b.yaml', zoneText('x.test', '192.0.2.2', 2))], { reload: true });
  assert.equal(change.catalog.zones.length, 1);
  assert.equal(change.catalog.zones[0]!.file, 'a.yaml');
  assert.ok(log.messages().includes('zone defined twice; keeping the first file'));
});

test('an omitted serial is derived once per content and grows when the content changes', async () => {
  const zones = new ZoneSet(capture().logger);
  const first = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.1', null))], { reload: false });
  const serial = first.catalog.zones[0]!.serial;
  assert.ok(serial > 0);
  const edited = await zones.apply([load('a.yaml', zoneText('a.test', '192.0.2.2', null))], { reload: true });
  assert.ok(edited.catalog.zones[0]!.serial > serial);
});
