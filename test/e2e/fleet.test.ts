/**
 * The fleet end to end: one nats-server, three `meridian serve --fleet` processes probing one local
 * HTTP target from their own loopback sources (127.0.0.11, .12, .13). The target answers 503 to the
 * sources a step chooses; each name fails over from its checked pool to a backup, so the answer
 * tells the verdict. Three names use the same target with quorum majority, any and all.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { cliInProcess, runCli, waitFor } from '../support/e2e.js';
import { fleetInstance, sourceTarget, type FleetInstance } from '../support/fleet-instances.js';
import { startNats } from '../support/nats-server.js';

const MAIN = '127.0.77.1';
const BACKUP = '192.0.2.99';
const NAMES = { majority: 'maj.fleet.test', any: 'any.fleet.test', all: 'all.fleet.test' } as const;

function zone(port: number, majQuorum = ''): string {
  const check = (path: string, quorum: string) =>
    `{ type: http, port: ${port}, path: ${path}, interval: 1s, timeout: 400ms, rise: 1, fall: 1${quorum ? `, quorum: ${quorum}` : ''} }`;
  return [
    'zone: fleet.test',
    'ttl: 5',
    'soa: { mname: ns1.fleet.test, rname: hostmaster.fleet.test, serial: 1 }',
    'records:',
    '  "@": { NS: [ns1.fleet.test] }',
    '  ns1: { A: 192.0.2.53 }',
    '  maj: { failover: [main-maj, backup] }',
    '  any: { failover: [main-any, backup] }',
    '  all: { failover: [main-all, backup] }',
    'pools:',
    `  main-maj: { members: [${MAIN}], check: maj }`,
    `  main-any: { members: [${MAIN}], check: any }`,
    `  main-all: { members: [${MAIN}], check: all }`,
    `  backup: { members: [${BACKUP}] }`,
    'checks:',
    `  maj: ${check('/maj', majQuorum)}`,
    `  any: ${check('/any', 'any')}`,
    `  all: ${check('/all', 'all')}`,
    '',
  ].join('\n');
}

type Expected = { majority: 'up' | 'down'; any: 'up' | 'down'; all: 'up' | 'down' };

/** Every instance answers every name as `expected` says (up: the checked member; down: the backup). */
async function answersAre(instances: readonly FleetInstance[], expected: Expected): Promise<boolean> {
  for (const instance of instances) {
    for (const [quorum, name] of Object.entries(NAMES) as [keyof Expected, string][]) {
      const answer = await instance.answer(name);
      if (answer.join() !== (expected[quorum] === 'up' ? MAIN : BACKUP)) return false;
    }
  }
  return true;
}

test('a fleet of three shares health by quorum, survives the engine, shares overrides and ages out a dead instance', async (t) => {
  const engine = await startNats(1);
  t.after(() => engine.stop());
  const target = await sourceTarget(MAIN);
  t.after(() => target.close());
  const dir = await mkdtemp(join(tmpdir(), 'meridian-fleet-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'fleet.test.yaml'), zone(target.port));

  const instances = await Promise.all(
    ['i1', 'i2', 'i3'].map((name, index) =>
      fleetInstance(t, { name, source: `127.0.0.${11 + index}`, zones: dir, fleet: engine.urls, stateFile: join(dir, `${name}.state.json`) }),
    ),
  );
  const [i1, i2, i3] = instances as [FleetInstance, FleetInstance, FleetInstance];
  await Promise.all(instances.map((instance) => instance.start()));
  await waitFor('every instance to decide with the fleet', async () => {
    for (const instance of instances) if ((await instance.status()).fleet.alone !== null) return false;
    return true;
  }, 10_000);
  assert.ok(await answersAre(instances, { majority: 'up', any: 'up', all: 'up' }));

  // A second `serve` with a name in use: started now, beside the next steps (its refusal takes two
  // of i1's heartbeats to be sure i1 is alive), and judged in its own step.
  const sameName = runCli(['serve', '--zones', dir, '--listen', '127.0.0.1:0', '--no-geo', '--workers', '1', '--fleet', engine.urls, '--instance', 'i1']);

  await t.test('503 to one source: up everywhere under majority and any, down everywhere under all', async () => {
    const moved = performance.now();
    target.failFor(i1.source);
    // Each check has its own probe phase: wait until i1's failing views of all three have reached i2.
    await waitFor('i1\'s down views to reach i2', async () => {
      const { targets } = (await i2.status()).fleet;
      return targets.length === 3 && targets.every((target) => target.views.map((view) => `${view.instance}:${view.status}`).sort().join() === 'i1:down,i2:up,i3:up');
    }, 10_000);
    await waitFor('the quorum outcome on every instance', () => answersAre(instances, { majority: 'up', any: 'up', all: 'down' }), 10_000);
    const maj = (await i3.status()).fleet.targets.find((target) => target.check === 'maj')!;
    assert.equal(maj.disagree, true);
    assert.equal(maj.verdict, 'up');
    t.diagnostic(`one source failing: every instance answering alike ${Math.round(performance.now() - moved)} ms after the target changed (probe interval 1 s)`);
  });

  await t.test('503 to two sources: down everywhere under majority, still up under any', async () => {
    target.failFor(i1.source, i2.source);
    // The deciding view is i2's: measure from the first instance that changed its answer to the last.
    const first = await waitFor('a first instance to move', async () => {
      for (const instance of instances) if ((await instance.answer(NAMES.majority)).join() === BACKUP) return performance.now();
      return undefined;
    }, 10_000, 10);
    await waitFor('every instance to answer alike', () => answersAre(instances, { majority: 'down', any: 'up', all: 'down' }), 10_000, 10);
    t.diagnostic(`two sources failing: all instances answer alike ${Math.round(performance.now() - first)} ms after the first one changed`);
  });

  await t.test('a second instance with a name in use is refused', async () => {
    const result = await sameName;
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /instance name "i1" is in use by another running instance/);
  });

  await t.test('meridian fleet status lists the three instances and each member\'s three views', async () => {
    // The JSON report from the real command; the text form from the same command run in this process.
    const [result, text] = await Promise.all([runCli(['fleet', 'status', '--fleet', engine.urls, '--json']), cliInProcess(['fleet', 'status', '--fleet', engine.urls])]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { instances: { instance: string }[]; targets: { check: string; verdict: string; disagree: boolean; views: { instance: string; status: string }[] }[] };
    assert.deepEqual(report.instances.map((i) => i.instance).sort(), ['i1', 'i2', 'i3']);
    const maj = report.targets.find((target) => target.check === 'maj')!;
    assert.equal(maj.verdict, 'down');
    assert.equal(maj.disagree, true);
    assert.deepEqual(maj.views.map((view) => `${view.instance}:${view.status}`).sort(), ['i1:down', 'i2:down', 'i3:up']);
    assert.match(text.stdout, /i3/);
    assert.match(text.stdout, /DISAGREE/);
  });

  await t.test('the engine killed: each instance answers on its own verdicts; restarted: they converge', async () => {
    await engine.nodes[0]!.kill();
    // i3 sees the target up, i1 and i2 see it down: alone, they part.
    await waitFor('each instance to decide alone', async () => (await i3.answer(NAMES.majority)).join() === MAIN && (await i1.answer(NAMES.majority)).join() === BACKUP, 15_000);
    assert.match((await i3.status()).fleet.alone ?? '', /unreachable/);
    const metrics = await (await fetch(`http://${i3.admin}/metrics`)).text();
    assert.match(metrics, /meridian_fleet_deciding_alone 1/);
    assert.match(metrics, /meridian_fleet_connection_state\{state="disconnected"\} 1/);
    await engine.nodes[0]!.start();
    await waitFor('the fleet to converge again', () => answersAre(instances, { majority: 'down', any: 'up', all: 'down' }), 15_000);
    assert.equal((await i3.status()).fleet.alone, null);
  });

  await t.test('an override sent to instance 1 is obeyed by 2 and 3, survives restarting all three, honoured from the cache while the engine is down', async () => {
    target.failFor();
    await waitFor('all up', () => answersAre(instances, { majority: 'up', any: 'up', all: 'up' }), 10_000);
    // The command in this process (cliInProcess): what is tested is the fleet carrying the override.
    const sent = await cliInProcess(['override', MAIN, 'down', '--admin', i1.admin]);
    assert.equal(sent.code, 0, sent.stderr);
    const applied = performance.now();
    await waitFor('every instance to obey', () => answersAre(instances, { majority: 'down', any: 'down', all: 'down' }), 5000, 10);
    t.diagnostic(`override through instance 1 obeyed by all three ${Math.round(performance.now() - applied)} ms after it was accepted`);
    // All three restarted while the engine is down: each honours the override cached in its state file.
    await engine.nodes[0]!.kill();
    await Promise.all(instances.map((instance) => instance.stop()));
    await Promise.all(instances.map((instance) => instance.start()));
    for (const instance of instances) assert.match((await instance.status()).fleet.alone ?? '', /unreachable/);
    assert.ok(await answersAre(instances, { majority: 'down', any: 'down', all: 'down' }), 'every instance honours the cached override');
    // The engine back: its set of overrides wins (one it had lost would be cleared here), so the
    // override still in force once every instance has joined again is the one the engine kept.
    await engine.nodes[0]!.start();
    await waitFor('the fleet to gather again', async () => {
      for (const instance of instances) if ((await instance.status()).fleet.alone !== null) return false;
      return true;
    }, 15_000);
    assert.ok(await answersAre(instances, { majority: 'down', any: 'down', all: 'down' }), 'the override holds: the engine kept it across the restart of all three');
    const cleared = await fetch(`http://${i3.admin}/overrides/${MAIN}`, { method: 'DELETE' });
    assert.equal(cleared.status, 200, await cleared.text());
    await waitFor('the clear to reach every instance', () => answersAre(instances, { majority: 'up', any: 'up', all: 'up' }), 5000, 10);
  });

  await t.test('an instance killed: its views age out and stop counting', async () => {
    target.failFor(i1.source);
    await waitFor('majority up with i1 failing', () => answersAre(instances, { majority: 'up', any: 'up', all: 'down' }), 10_000);
    await i3.kill();
    // Left: i1 down, i2 up. Two fresh views with a majority needing two: down, once i3's view is stale.
    await waitFor('i3\'s view to age out and the majority to follow', async () => {
      const maj = (await i1.status()).fleet.targets.find((target) => target.check === 'maj')!;
      return maj.views.find((view) => view.instance === 'i3')?.fresh === false && (await answersAre([i1, i2], { majority: 'down', any: 'up', all: 'down' }));
    }, 15_000);
  });

  await t.test('a reload that changes only a check\'s quorum decides again at once, keeping the probes\' state', async () => {
    // i1 sees the target down, i2 up, i3's view is stale: majority says down, any says up.
    await writeFile(join(dir, 'fleet.test.yaml'), zone(target.port, 'any'));
    await waitFor('i1 and i2 to apply quorum any to maj', () => answersAre([i1, i2], { majority: 'up', any: 'up', all: 'down' }), 10_000, 10);
    for (const instance of [i1, i2]) {
      const maj = (await instance.status()).fleet.targets.find((target) => target.check === 'maj')!;
      assert.equal(maj.quorum, 'any');
      assert.equal(maj.verdict, 'up');
      // The same probe target, not a new one: the views are all still there, i1's and i2's fresh.
      assert.equal(maj.views.map((view) => `${view.instance}:${view.status}:${view.fresh}`).sort().join(), 'i1:down:true,i2:up:true,i3:up:false');
    }
  });
});
