/**
 * Zones pushed through the fleet's engine, end to end: a real nats-server, three real `serve
 * --zones-from-fleet` processes and the real CLI (`push`, `zones rollback`). One engine and one
 * fleet for the whole file; each step starts from what the one before left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FleetConnection, formatFleetStatus, parseFleetOptions, readFleetStatus } from '../../src/fleet/index.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { planRevision, RevisionStore } from '../../src/zone-revisions/index.js';
import { query, type Address } from '../support/dns-client.js';
import { runCli, spawnCliCaptured, waitFor, type CapturedCli } from '../support/e2e.js';
import { startNats } from '../support/nats-server.js';

function zoneText(address: string, serial: number): string {
  return [
    'zone: fleet.test',
    'ttl: 30',
    `soa: { mname: ns1.fleet.test, rname: hostmaster.fleet.test, serial: ${serial} }`,
    'records:',
    '  "@": { NS: [ns1.fleet.test] }',
    '  ns1: { A: 192.0.2.53 }',
    `  www: { A: ${address} }`,
    '',
  ].join('\n');
}

interface Instance {
  name: string;
  cli: CapturedCli;
  dns: Address;
  admin: string;
}

function logMessages(cli: CapturedCli): string[] {
  return cli
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => String((JSON.parse(line) as { msg?: unknown }).msg));
}

async function startInstance(t: { after(fn: () => unknown): void }, name: string, fleet: string, stateDir: string): Promise<Instance> {
  const cli = spawnCliCaptured(t, ['serve', '--fleet', fleet, '--instance', name, '--zones-from-fleet', '--state-dir', stateDir, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--no-geo', '--workers', '1']);
  const alive = (): void => {
    if (cli.child.exitCode !== null) throw new Error(`${name} exited ${cli.child.exitCode}: ${cli.stderr()}`);
  };
  const port = await waitFor(`${name} to listen`, () => (alive(), logMessages(cli).map((m) => /^listening on 127\.0\.0\.1:(\d+) udp$/.exec(m)?.[1]).find(Boolean)), 30_000, 50);
  const admin = await waitFor(`${name}'s admin endpoint`, () => (alive(), logMessages(cli).map((m) => /^admin HTTP on (\S+)$/.exec(m)?.[1]).find(Boolean)), 10_000, 50);
  return { name, cli, dns: { host: '127.0.0.1', port: Number(port) }, admin };
}

async function stop(instance: Instance): Promise<void> {
  const { child } = instance.cli;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function wwwOf(instance: Instance): Promise<string> {
  const response = await query(instance.dns, 'www.fleet.test', 'A', { timeoutMs: 1000 });
  return response.answer.map((record) => record.data).join(',');
}

interface RevisionView {
  served: { number: number; from: string } | null;
  newest: number | null;
  refused: { number: number; diagnostics: string[] } | null;
}

async function revisionOf(instance: Instance): Promise<RevisionView> {
  const status = (await (await fetch(`http://${instance.admin}/status`)).json()) as { zoneRevision: RevisionView };
  return status.zoneRevision;
}

/** Runs `work` against the engine's revisions, as any client would. */
async function withStore<T>(urls: string, work: (store: RevisionStore) => Promise<T>): Promise<T> {
  const fleet = FleetConnection.open(parseFleetOptions({ fleet: urls }, 'test-client')!, silentLogger());
  try {
    const connection = await fleet.whenConnected();
    return await work(await RevisionStore.open(connection!));
  } finally {
    await fleet.close();
  }
}

/** Publishes fleet.test with www at `address` straight to the engine, as a client that skips `check` would. */
async function publishUnchecked(urls: string, address: string, serial: number, message: string): Promise<void> {
  const file = { name: 'fleet.test.yaml', zone: 'fleet.test', text: zoneText(address, serial), explicitSerial: serial, timeSeconds: 0 };
  await withStore(urls, (store) => store.publish((previous) => planRevision([file], previous, { number: (previous?.number ?? 0) + 1, createdAt: new Date().toISOString(), message })));
}

async function engineHead(urls: string): Promise<{ number: number; createdAt: string } | null> {
  const head = await withStore(urls, (store) => store.head());
  return head && { number: head.revision.number, createdAt: head.revision.createdAt };
}

test('zones pushed through the engine reach every instance, are refused whole when broken, start from the cache, roll back, and lose no query', async (t) => {
  const engine = await startNats(1);
  t.after(() => engine.stop());
  const work = await mkdtemp(join(tmpdir(), 'meridian-fleet-zones-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const zones = join(work, 'zones');
  await mkdir(zones);
  const zoneFile = join(zones, 'fleet.test.yaml');
  await writeFile(zoneFile, zoneText('192.0.2.1', 1));

  // The instances start with nothing cached and nothing in the engine yet: they serve no zones
  // until the first push, which comes while they start.
  const [first, ...instances] = await Promise.all([
    runCli(['push', zones, '--fleet', engine.urls, '--message', 'first']),
    ...['ns1', 'ns2', 'ns3'].map((name) => startInstance(t, name, engine.urls, join(work, `state-${name}`))),
  ] as const);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /revision 1 published: first/);
  assert.match(first.stdout, /fleet\.test added \(fleet\.test\.yaml, serial 1\)/);
  await waitFor('revision 1 on all three', async () => (await Promise.all(instances.map(wwwOf))).every((a) => a === '192.0.2.1'), 15_000, 25);

  // A push with an error is refused with file:line:col and publishes nothing.
  await writeFile(zoneFile, zoneText('192.0.2.300', 2));
  const broken = await runCli(['push', zones, '--fleet', engine.urls]);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /fleet\.test\.yaml:7:\d+: .*"192\.0\.2\.300".*\[bad-address\]/);
  assert.match(broken.stderr, /nothing published/);
  assert.equal((await engineHead(engine.urls))?.number, 1, 'the engine still holds revision 1 only');
  for (const instance of instances) {
    assert.equal(await wwwOf(instance), '192.0.2.1');
    assert.equal((await revisionOf(instance)).served?.number, 1);
  }

  // A good push while a query loop runs against every instance: every query is answered, with
  // the old or the new address, and the new one reaches all three.
  let stopLoop = false;
  const seen = new Map<string, number>();
  let sent = 0;
  const loop = async (instance: Instance): Promise<void> => {
    while (!stopLoop && sent < 30_000) {
      sent++;
      const answer = await wwwOf(instance);
      seen.set(answer, (seen.get(answer) ?? 0) + 1);
    }
  };
  const loops = instances.map(loop);
  await writeFile(zoneFile, zoneText('192.0.2.2', 2));
  const second = await runCli(['push', zones, '--fleet', engine.urls, '--message', 'www moves']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /revision 2 published: www moves\n {2}fleet\.test changed \(fleet\.test\.yaml, serial 2\)/);
  const head = await engineHead(engine.urls);
  await waitFor('revision 2 on all three', async () => (await Promise.all(instances.map(wwwOf))).every((a) => a === '192.0.2.2'), 10_000, 10);
  const reachedAllMs = Date.now() - Date.parse(head!.createdAt);
  // Keep the loop going over the swap on every instance, then stop it.
  const after = sent + 300;
  await waitFor('queries after the swap', () => sent >= after, 20_000);
  stopLoop = true;
  await Promise.all(loops);
  t.diagnostic(`revision 2 served by all three ${reachedAllMs} ms after it was published; ${sent} queries in the loop, none lost`);
  assert.deepEqual([...seen.keys()].sort(), ['192.0.2.1', '192.0.2.2'], 'every answer is the old or the new address, never empty');

  // A revision that does not load (published by hand here, as an older or newer `push` might)
  // is refused whole by every instance: the last good one keeps serving, /status and metrics say so.
  await publishUnchecked(engine.urls, '192.0.2.300', 3, 'unchecked');
  for (const instance of instances) {
    const refused = await waitFor(`${instance.name} to refuse revision 3`, async () => (await revisionOf(instance)).refused ?? undefined, 10_000, 25);
    assert.equal(refused.number, 3);
    assert.match(refused.diagnostics.join('\n'), /^fleet\.test\.yaml:7:\d+: .*\[bad-address\]$/m);
    assert.equal((await revisionOf(instance)).served?.number, 2);
    assert.equal(await wwwOf(instance), '192.0.2.2');
    assert.match(await (await fetch(`http://${instance.admin}/metrics`)).text(), /^meridian_zone_revisions_refused_total 1$/m);
    assert.ok(logMessages(instance.cli).includes('zone revision 3 refused; still serving revision 2'), `${instance.name} logs the refusal`);
  }

  // Rollback publishes revision 1's zones as revision 4, on all three.
  const rollback = await runCli(['zones', 'rollback', '1', '--fleet', engine.urls]);
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.match(rollback.stdout, /revision 4 published: rollback to revision 1\n {2}fleet\.test changed \(fleet\.test\.yaml, serial 1\)/);
  assert.match(rollback.stderr, /serial of fleet\.test goes back from 3 to 1/);
  await waitFor('the rollback on all three', async () => (await Promise.all(instances.map(wwwOf))).every((a) => a === '192.0.2.1'), 10_000, 10);
  for (const instance of instances) assert.deepEqual(await revisionOf(instance).then((r) => [r.served?.number, r.refused]), [4, null]);
  // meridian fleet status shows the revision each instance serves (the report and the text the
  // command prints; the command itself is run in fleet.test.ts).
  const fleetOptions = parseFleetOptions({ fleet: engine.urls }, 'test-client')!;
  const report = await waitFor('revision 4 in every presence record', async () => {
    const read = await readFleetStatus(fleetOptions);
    return read.instances.filter((i) => i.live && i.zoneRevision === 4).length === 3 ? read : undefined;
  }, 10_000, 100);
  assert.match(formatFleetStatus(report), /^ {2}ns1 .* revision 4: fleet\.test 1$/m);

  // An instance restarted while the engine is down serves the revision it cached.
  const ns3 = instances[2]!;
  await stop(ns3);
  await engine.nodes[0]!.kill();
  const restarted = await startInstance(t, 'ns3', engine.urls, join(work, 'state-ns3'));
  assert.equal(await wwwOf(restarted), '192.0.2.1');
  const cached = await revisionOf(restarted);
  assert.deepEqual([cached.served?.number, cached.served?.from], [4, 'cache']);
  // The engine back: the instance finds its revision confirmed there, and follows again.
  await engine.nodes[0]!.start();
  await waitFor('the cached revision confirmed by the engine', async () => (await revisionOf(restarted)).served?.from === 'engine', 15_000, 50);
  // Every instance follows again, those that lived through the engine's restart too.
  const survivors = [instances[0]!, instances[1]!, restarted];
  await publishUnchecked(engine.urls, '192.0.2.5', 5, 'after the engine restart');
  await waitFor('revision 5 on all three', async () => (await Promise.all(survivors.map(wwwOf))).every((a) => a === '192.0.2.5'), 15_000, 25);
  await Promise.all(survivors.map(stop));
});
