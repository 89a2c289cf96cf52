import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startHttpTarget } from '../../test/support/probe-targets.js';
import type { CheckSpec } from './check-spec.js';
import { probeKeyOf } from './check-spec.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import type { HealthChange, TargetSpec } from './health-state.js';
import { HealthMonitor } from './health-monitor.js';
import type { ProbeFn, ProbeResult } from './probes/index.js';

function check(overrides: Partial<CheckSpec> = {}): CheckSpec {
  return {
    type: 'http',
    port: 8080,
    path: '/healthz',
    expect: [200],
    verify: true,
    intervalMs: 1000,
    timeoutMs: 500,
    rise: 2,
    fall: 2,
    name: 'web',
    ...overrides,
  };
}

function targetSpec(address: string, c: CheckSpec, pools: string[] = ['london']): TargetSpec {
  return {
    probeKey: probeKeyOf(address, c),
    address,
    check: c,
    members: pools.map((pool) => ({ zone: 'example.test', pool, address })),
  };
}

test('setTargets: keeps state of kept targets, drops removed ones, probes new ones at once', async () => {
  const clock = new FakeClock();
  const down = new Set(['127.0.9.3']);
  const probed: string[] = [];
  const probe: ProbeFn = (target) => {
    probed.push(target.address);
    return Promise.resolve(down.has(target.address) ? { ok: false, latencyMs: 1, reason: 'HTTP 503' } : { ok: true, latencyMs: 1 });
  };
  const changes: HealthChange[] = [];
  const monitor = new HealthMonitor({ clock, tickSource: clock.ticks, probe, random: () => 0.99 });
  monitor.onChange((c) => changes.push(c));
  const a = targetSpec('127.0.9.3', check());
  const b = targetSpec('127.0.9.4', check());
  await monitor.setTargets([a, b]);
  assert.deepEqual(probed, [], 'nothing is probed before start()');
  assert.equal(monitor.status(a.probeKey, a.address), 'up', 'unprobed counts as up');
  await monitor.start();
  assert.equal(monitor.status(a.probeKey, a.address), 'down', 'a failed first probe takes the target down at once');
  assert.equal(monitor.status(b.probeKey, b.address), 'up');
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0]?.kind === 'target' && [changes[0].reason, changes[0].initial], ['HTTP 503', true]);

  const c = targetSpec('127.0.9.5', check());
  probed.length = 0;
  await monitor.setTargets([a, c]);
  assert.deepEqual(probed, ['127.0.9.5'], 'only the new target is probed at once');
  assert.equal(monitor.status(a.probeKey, a.address), 'down', 'kept target keeps its state');
  const v = monitor.version;
  await monitor.setTargets([c]);
  assert.equal(monitor.status(a.probeKey, a.address), 'up', 'removed target: unknown key counts as up');
  assert.ok(monitor.version > v, 'removing a down target changes answers');
  assert.deepEqual(
    monitor.snapshot().targets.map((t) => t.address),
    ['127.0.9.5'],
  );
  assert.equal(monitor.status(null, '192.0.2.1'), 'up', 'members without a check are up');
  await monitor.stop();
});

test('monitor: a target whose probes hang is withdrawn after fall failures, within interval×fall+timeout, and returns after rise successes', async (t) => {
  // Fake time, so the bounds are exact instead of padded for a loaded machine; the real probes and
  // the real 1 s ticks are held to the same bounds end to end (test/e2e/failover.test.ts).
  const clock = new FakeClock();
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const c = check({ intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 });
  const spec = targetSpec('127.0.8.1', c);
  // A stopped target's probe hangs until its timeout (the slowest way to fail); a running one answers at once.
  let stopped = false;
  const outcomes: { at: number; ok: boolean }[] = [];
  const probe: ProbeFn = () =>
    new Promise<ProbeResult>((resolve) => {
      const settle = (result: ProbeResult): void => {
        outcomes.push({ at: clock.now(), ok: result.ok });
        resolve(result);
      };
      if (!stopped) return settle({ ok: true, latencyMs: 1 });
      clock.setTimeout(() => settle({ ok: false, latencyMs: c.timeoutMs, reason: `timeout after ${c.timeoutMs} ms` }), c.timeoutMs);
    });
  const monitor = new HealthMonitor({ logger, clock, tickSource: clock.ticks, probe, random: () => 0.37 });
  const isUp = (): boolean => monitor.status(spec.probeKey, spec.address) === 'up';
  /** Moves fake time on in 10 ms steps until `cond` holds; the time it took. */
  const until = async (cond: () => boolean, limitMs: number): Promise<number> => {
    const from = clock.now();
    while (!cond() && clock.now() - from < limitMs) await clock.advance(10);
    assert.ok(cond(), `not within ${limitMs} ms of fake time`);
    return clock.now() - from;
  };
  try {
    await monitor.setTargets([spec]);
    await monitor.start();
    assert.equal(isUp(), true);
    assert.equal(monitor.snapshot().targets[0]?.probed, true);
    await clock.advance(2345); // some probe rounds in, at a phase that is not a whole second

    stopped = true;
    const failedBefore = outcomes.filter((o) => !o.ok).length;
    const downAfter = await until(() => !isUp(), 10_000);
    const failures = outcomes.filter((o) => !o.ok).length - failedBefore;
    t.diagnostic(`withdrawn ${downAfter} ms after the target stopped`);
    assert.ok(downAfter <= c.intervalMs * c.fall + c.timeoutMs, `withdrawn after ${downAfter} ms`);
    assert.equal(failures, c.fall, 'withdrawn on the fall-th failed probe, not before');

    stopped = false;
    const succeededBefore = outcomes.filter((o) => o.ok).length;
    const upAfter = await until(isUp, 10_000);
    t.diagnostic(`back ${upAfter} ms after the target restarted`);
    // The probe in flight when it restarted may still time out: rise successes after that one.
    assert.ok(upAfter <= c.intervalMs * c.rise + c.timeoutMs, `back after ${upAfter} ms`);
    assert.equal(outcomes.filter((o) => o.ok).length - succeededBefore, c.rise, 'back on the rise-th successful probe, not before');

    const changes = lines.filter((l) => l.msg === 'member down' || l.msg === 'member up');
    assert.deepEqual(changes.map((l) => l.msg), ['member down', 'member up']);
    assert.equal(changes[0]?.member, '127.0.8.1');
    assert.equal(changes[0]?.check, 'web');
    assert.equal(changes[0]?.pool, 'london');
    assert.equal(changes[0]?.reason, 'timeout after 500 ms');
    assert.equal(changes[1]?.reason, '2 consecutive successes');
    assert.equal(changes[0]?.level, 40);
    const counters = monitor.counters;
    assert.deepEqual(counters.stateChanges, { up: 1, down: 1 });
    assert.ok((counters.probes.web?.ok ?? 0) >= 3 && (counters.probes.web?.timeout ?? 0) >= 2, JSON.stringify(counters.probes));
  } finally {
    await monitor.stop();
  }
});

test('monitor: the same (address, check) used by two pools and two zones is probed once', async () => {
  const server = await startHttpTarget({ address: '127.0.8.2' });
  const monitor = new HealthMonitor();
  try {
    const web = check({ port: server.port, intervalMs: 60_000 });
    const web2 = { ...web, name: 'web-copy' };
    // As two zones would build them: separately, so the key repeats.
    const specs = [targetSpec(server.address, web, ['london', 'europe']), { ...targetSpec(server.address, web2), members: [{ zone: 'other.test', pool: 'eu', address: '2001:db8::1' }] }];
    assert.equal(specs[0]?.probeKey, specs[1]?.probeKey);
    await monitor.setTargets(specs);
    await monitor.start();
    assert.equal(server.requests.length, 1);
    const snap = monitor.snapshot();
    assert.equal(snap.targets.length, 1);
    assert.equal(snap.targets[0]?.members.length, 3);
    assert.equal(snap.targets[0]?.lastResult, 'ok');
  } finally {
    await monitor.stop();
    await server.stop();
  }
});

test('overrides: win over probes, bump the version, persist atomically and reload', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-health-'));
  const stateFile = join(dir, 'state', 'health.json');
  try {
    const clock = new FakeClock();
    const probe: ProbeFn = () => Promise.resolve({ ok: false, latencyMs: 1, reason: 'HTTP 503' });
    const spec = targetSpec('127.0.9.6', check());
    const a = new HealthMonitor({ stateFile, clock, tickSource: clock.ticks, probe });
    await a.setTargets([spec]);
    await a.start();
    assert.equal(a.status(spec.probeKey, '127.0.9.6'), 'down');
    const seen: HealthChange[] = [];
    a.onChange((c) => seen.push(c));
    const v = a.version;
    await a.setOverride('127.0.9.6', 'up');
    await a.setOverride('2001:DB8:0::1', 'drained');
    assert.equal(a.version, v + 2);
    assert.equal(a.status(spec.probeKey, '127.0.9.6'), 'up');
    assert.equal(a.status(null, '2001:db8::1'), 'drained');
    assert.deepEqual(seen.map((c) => c.kind === 'override' && c.override), ['up', 'drained']);
    // Survives a zone reload that drops and re-adds the target.
    await a.setTargets([]);
    await a.setTargets([spec]);
    assert.equal(a.status(spec.probeKey, '127.0.9.6'), 'up');
    await a.stop();

    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as unknown;
    assert.deepEqual(saved, { version: 1, overrides: { '127.0.9.6': 'up', '2001:db8::1': 'drained' } });
    assert.deepEqual(await readdir(join(dir, 'state')), ['health.json'], 'no temp files left behind');

    const b = new HealthMonitor({ stateFile });
    assert.equal(b.status(null, '2001:db8::1'), 'drained', 'reloaded on construction');
    assert.equal(b.overrideOf('127.0.9.6'), 'up');
    await b.setOverride('127.0.9.6', null);
    assert.equal(b.overrideOf('127.0.9.6'), null);
    assert.deepEqual(b.snapshot().overrides, [{ address: '2001:db8::1', state: 'drained' }]);
    await b.stop();
    assert.deepEqual(JSON.parse(await readFile(stateFile, 'utf8')), { version: 1, overrides: { '2001:db8::1': 'drained' } });

    await assert.rejects(b.setOverride('not-an-ip', 'down'), TypeError);
    await writeFile(stateFile, '{"overrides": {"127.0.0.1": "sideways"}}');
    assert.throws(() => new HealthMonitor({ stateFile }), /bad override/);
    await writeFile(stateFile, '{ truncated');
    assert.throws(() => new HealthMonitor({ stateFile }), /health state file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('overrides: a failed state-file write changes nothing, is not broadcast, and says why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-health-'));
  const stateFile = join(dir, 'health.json');
  try {
    const clock = new FakeClock();
    const probe: ProbeFn = () => Promise.resolve({ ok: false, latencyMs: 1, reason: 'HTTP 503' });
    const spec = targetSpec('127.0.9.6', check());
    const monitor = new HealthMonitor({ stateFile, clock, tickSource: clock.ticks, probe });
    await monitor.setTargets([spec]);
    await monitor.start();
    const seen: HealthChange[] = [];
    monitor.onChange((c) => seen.push(c));
    const version = monitor.version;
    // A real unwritable path: a non-empty directory where the file goes (root cannot rename over it either).
    await mkdir(join(stateFile, 'in-the-way'), { recursive: true });
    const failure = await monitor.setOverride('127.0.9.6', 'up').then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(failure instanceof Error, 'the caller (the admin request) gets an error');
    assert.equal(monitor.status(spec.probeKey, '127.0.9.6'), 'down', 'the override is not in force');
    assert.equal(monitor.overrideOf('127.0.9.6'), null);
    assert.equal(monitor.version, version, 'answers did not change');
    assert.deepEqual(seen, [], 'nothing was broadcast');
    assert.deepEqual(monitor.snapshot().overrides, []);
    assert.equal(monitor.counters.overrideChanges, 0);
    assert.match(failure.message, /^cannot write health state file .*health\.json: .*EISDIR.*; the override was not changed$/);
    await monitor.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('monitor: a throwing probe observer or a broken probe result never escapes as an uncaught exception', async () => {
  const clock = new FakeClock();
  const escaped: unknown[] = [];
  const record = (err: unknown): void => {
    escaped.push(err);
  };
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  const spec = targetSpec('127.0.9.11', check({ rise: 1, fall: 1 }));
  let probes = 0;
  const monitor = new HealthMonitor({
    clock,
    tickSource: clock.ticks,
    random: () => 0.5,
    probe: () => {
      probes++;
      // The second probe breaks its contract and resolves with nothing.
      return Promise.resolve(probes === 2 ? (undefined as unknown as ProbeResult) : { ok: probes !== 3, latencyMs: 1, reason: 'HTTP 503' });
    },
    onProbe: () => {
      if (probes === 1) throw new Error('observer broke');
    },
  });
  try {
    await monitor.setTargets([spec]);
    await monitor.start();
    await clock.advance(3000);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(escaped, []);
    assert.equal(monitor.status(spec.probeKey, spec.address), 'up', 'probing went on: the fourth probe brought it back up');
    assert.ok(probes >= 4);
    assert.deepEqual(monitor.counters.stateChanges, { up: 1, down: 1 });
  } finally {
    await monitor.stop();
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  }
});

test('counters: missed scheduler ticks and overlapping turns are counted for /metrics', async () => {
  const clock = new FakeClock();
  const monitor = new HealthMonitor({ clock, tickSource: clock.ticks, probe: () => Promise.resolve({ ok: true, latencyMs: 1 }) });
  await monitor.setTargets([targetSpec('127.0.9.12', check())]);
  await monitor.start();
  await clock.advance(1000); // the tick of 1000 came
  clock.stall(5200); // those of 2000 to 6000 are due; one runs late at 6200, four never do
  await clock.advance(1000);
  await monitor.stop();
  const { missedTicks, overlapSkips } = monitor.counters;
  assert.deepEqual({ missedTicks, overlapSkips }, { missedTicks: 4, overlapSkips: 0 });
});

test('monitor: stop() cuts off a hanging first probe at once', async () => {
  const server = await startHttpTarget({ address: '127.0.8.3' });
  server.setHang(true);
  const monitor = new HealthMonitor();
  try {
    await monitor.setTargets([targetSpec(server.address, check({ port: server.port, timeoutMs: 5000 }))]);
    const first = monitor.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const began = Date.now();
    await monitor.stop();
    await first;
    assert.ok(Date.now() - began < 1000);
    assert.equal(monitor.snapshot().targets[0]?.probed, false, 'an aborted probe is not a result');
  } finally {
    await server.stop();
  }
});

/** Polls `cond` every 25 ms for at most `limitMs`; returns the elapsed ms, or -1 on timeout. */
async function waitFor(cond: () => boolean, limitMs: number): Promise<number> {
  const start = Date.now();
  for (let i = 0; i < Math.ceil(limitMs / 25) + 1; i++) {
    if (cond()) return Date.now() - start;
    if (Date.now() - start > limitMs) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return cond() ? Date.now() - start : -1;
}
