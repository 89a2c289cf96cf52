import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startHttpTarget } from '../../test/support/probe-targets.js';
import type { CheckSpec } from './check-spec.js';
import { probeKeyOf } from './check-spec.js';
import type { HealthChange, MonitorClock, TargetSpec, TickSource } from './health-monitor.js';
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

/** Deterministic time: timers run in order as `advance` moves the clock. */
class FakeClock implements MonitorClock {
  t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** A tick source firing on every whole second of fake time, like the cron task on wall-clock seconds. */
  readonly ticks: TickSource = (onTick) => {
    let handle: unknown;
    const arm = (): void => {
      handle = this.setTimeout(() => {
        onTick();
        arm();
      }, 1000 - (this.t % 1000));
    };
    arm();
    return { stop: () => this.clearTimeout(handle) };
  };
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (let guard = 0; guard < 1_000_000; guard++) {
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, timer] of this.timers) {
        if (timer.at < nextAt || (timer.at === nextAt && id < nextId)) {
          nextId = id;
          nextAt = timer.at;
        }
      }
      if (nextAt > end) break;
      const timer = this.timers.get(nextId);
      this.timers.delete(nextId);
      this.t = nextAt;
      timer?.fn();
      // Let probe promises settle before the next timer, as they would in real time.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.t = end;
  }
}

test('scheduler: a 7 s interval (not a divisor of 60 s) is honoured exactly', async () => {
  const clock = new FakeClock();
  const calls: number[] = [];
  const probe: ProbeFn = () => {
    calls.push(clock.t);
    return Promise.resolve({ ok: true, latencyMs: 1 });
  };
  const monitor = new HealthMonitor({ clock, tickSource: clock.ticks, probe, random: () => 0.3 });
  void monitor.setTargets([targetSpec('127.0.9.1', check({ intervalMs: 7000 }))]);
  await monitor.start();
  await clock.advance(70_000);
  await monitor.stop();
  assert.equal(calls[0], 0, 'first probe at start');
  assert.equal(calls[1], 2100, 'then at the random phase (0.3 × 7 s)');
  const gaps = calls.slice(2).map((at, i) => at - (calls[i + 1] ?? 0));
  assert.ok(gaps.length >= 8);
  assert.deepEqual(new Set(gaps), new Set([7000]));
});

test('scheduler: a thousand targets are spread over the interval in 50 ms groups, not fired together', async () => {
  const clock = new FakeClock();
  const second = new Map<string, number>();
  const started = { first: 0 };
  const probe: ProbeFn = (target) => {
    if (started.first < 1000) started.first++;
    else if (!second.has(target.address)) second.set(target.address, clock.t);
    return Promise.resolve({ ok: true, latencyMs: 1 });
  };
  const monitor = new HealthMonitor({ clock, tickSource: clock.ticks, probe });
  const specs: TargetSpec[] = [];
  for (let i = 0; i < 1000; i++) specs.push(targetSpec(`127.1.${i >> 8}.${i & 255}`, check({ intervalMs: 5000 })));
  void monitor.setTargets(specs);
  await monitor.start();
  await clock.advance(5000);
  await monitor.stop();
  assert.equal(second.size, 1000, 'every target probed again within one interval');
  // Probes due in the same 50 ms start together (one wake-up for the group); the groups are
  // spread over the whole interval: 100 slots in 5 s, about 10 probes each.
  const perMs = new Map<number, number>();
  const perSecond = [0, 0, 0, 0, 0];
  for (const at of second.values()) {
    perMs.set(at, (perMs.get(at) ?? 0) + 1);
    perSecond[Math.min(4, Math.floor(at / 1000))]! += 1;
  }
  for (const at of perMs.keys()) assert.equal(at % 50, 0, `probes start on the 50 ms grid (one at ${at} ms)`);
  assert.ok(perMs.size >= 90, `at least 90 of the 100 slots used, got ${perMs.size}`);
  assert.ok(Math.max(...perMs.values()) <= 30, `at most 30 probes in one 50 ms slot, got ${Math.max(...perMs.values())}`);
  for (const n of perSecond) assert.ok(n > 120 && n < 280, `per-second spread ${perSecond.join(',')}`);
});

test('scheduler: never two probes of one target at once; stop() aborts the one in flight', async () => {
  const clock = new FakeClock();
  let calls = 0;
  let aborted = 0;
  const probe: ProbeFn = (_target, signal) => {
    calls++;
    return new Promise<ProbeResult>((resolve) => {
      signal.addEventListener('abort', () => {
        aborted++;
        resolve({ ok: false, latencyMs: 0, reason: 'aborted' });
      });
    });
  };
  const monitor = new HealthMonitor({ clock, tickSource: clock.ticks, probe, firstProbeSlackMs: 100 });
  void monitor.setTargets([targetSpec('127.0.9.2', check({ intervalMs: 1000, timeoutMs: 500 }))]);
  const first = monitor.start();
  await clock.advance(700);
  await first; // bounded by timeout + slack even though the probe never settles
  await clock.advance(4000);
  assert.equal(calls, 1);
  assert.ok(monitor.counters.overlapSkips >= 3);
  assert.equal(monitor.status(probeKeyOf('127.0.9.2', check({ intervalMs: 1000, timeoutMs: 500 })), '127.0.9.2'), 'up');
  await monitor.stop();
  assert.equal(aborted, 1);
});

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

test('monitor: a stopped server is withdrawn within interval×fall+timeout and returns after rise', async (t) => {
  const server = await startHttpTarget({ address: '127.0.8.1' });
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const c = check({ port: server.port, intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2 });
  const spec = targetSpec(server.address, c);
  const monitor = new HealthMonitor({ logger });
  try {
    await monitor.setTargets([spec]);
    await monitor.start();
    assert.equal(monitor.status(spec.probeKey, spec.address), 'up');
    assert.equal(monitor.snapshot().targets[0]?.probed, true);

    await server.stop();
    const stoppedAt = Date.now();
    const downAfter = await waitFor(() => monitor.status(spec.probeKey, spec.address) === 'down', 1000 * 2 + 500 + 1000);
    assert.ok(downAfter >= 0, 'withdrawn in time');
    assert.ok(Date.now() - stoppedAt >= 900, 'not before fall=2 probes');

    await server.restart();
    const upAfter = await waitFor(() => monitor.status(spec.probeKey, spec.address) === 'up', 1000 * 2 + 500 + 1000);
    assert.ok(upAfter >= 0, 'back in time');
    t.diagnostic(`withdrawn ${downAfter} ms after stop, back ${upAfter} ms after restart`);

    const changes = lines.filter((l) => l.msg === 'member down' || l.msg === 'member up');
    assert.deepEqual(changes.map((l) => l.msg), ['member down', 'member up']);
    assert.equal(changes[0]?.member, '127.0.8.1');
    assert.equal(changes[0]?.check, 'web');
    assert.equal(changes[0]?.pool, 'london');
    assert.equal(changes[0]?.reason, 'connect ECONNREFUSED');
    assert.equal(changes[1]?.reason, '2 consecutive successes');
    assert.equal(changes[0]?.level, 40);
    const counters = monitor.counters;
    assert.deepEqual(counters.stateChanges, { up: 1, down: 1 });
    assert.ok((counters.probes.web?.ok ?? 0) >= 3 && (counters.probes.web?.fail ?? 0) >= 2);
  } finally {
    await monitor.stop();
    await server.stop();
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

    assert.throws(() => b.setOverride('not-an-ip', 'down'), TypeError);
    await writeFile(stateFile, '{"overrides": {"127.0.0.1": "sideways"}}');
    assert.throws(() => new HealthMonitor({ stateFile }), /bad override/);
    await writeFile(stateFile, '{ truncated');
    assert.throws(() => new HealthMonitor({ stateFile }), /health state file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
