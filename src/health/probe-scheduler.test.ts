import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../test/support/capture-logger.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { silentLogger } from '../telemetry/logger.js';
import type { CheckSpec } from './check-spec.js';
import type { MonitorClock } from './tick-source.js';
import { ProbeScheduler, type ProbeJob, type ProbeSchedulerOptions } from './probe-scheduler.js';
import type { ProbeFn, ProbeResult } from './probes/index.js';

function check(overrides: Partial<CheckSpec> = {}): CheckSpec {
  return { type: 'tcp', port: 80, intervalMs: 1000, timeoutMs: 500, rise: 1, fall: 1, name: null, ...overrides } as CheckSpec;
}

function job(address: string, c: CheckSpec = check()): ProbeJob {
  return { key: `${address} ${c.intervalMs}`, address, check: c };
}

const OK: ProbeResult = { ok: true, latencyMs: 1 };

function scheduler(clock: FakeClock, probe: ProbeFn, extra: Partial<ProbeSchedulerOptions> = {}): ProbeScheduler {
  return new ProbeScheduler({ logger: silentLogger(), probe, onResult: () => undefined, clock, tickSource: clock.ticks, ...extra });
}

/** A scheduler whose probes succeed at once, and the (fake) times they started at. */
function recordingScheduler(clock: FakeClock, random: number): { probes: ProbeScheduler; calls: number[] } {
  const calls: number[] = [];
  const probe: ProbeFn = () => {
    calls.push(clock.t);
    return Promise.resolve(OK);
  };
  return { probes: scheduler(clock, probe, { random: () => random }), calls };
}

/** Records the exceptions that escape to the process while `run` runs (and one turn after it). */
async function escapedDuring(run: () => Promise<void>): Promise<unknown[]> {
  const escaped: unknown[] = [];
  const record = (err: unknown): void => {
    escaped.push(err);
  };
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  try {
    await run();
    await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  }
  return escaped;
}

test('phases: the first probe runs at start, then at a random phase, then every interval (7 s, not a divisor of 60 s)', async () => {
  const clock = new FakeClock();
  const { probes, calls } = recordingScheduler(clock, 0.3);
  void probes.add([job('127.0.9.1', check({ intervalMs: 7000 }))]);
  await probes.start();
  await clock.advance(70_000);
  await probes.stop();
  assert.equal(calls[0], 0, 'first probe at start');
  assert.equal(calls[1], 2100, 'then at the random phase (0.3 × 7 s)');
  const gaps = calls.slice(2).map((at, i) => at - calls[i + 1]!);
  assert.equal(gaps.length, 9);
  assert.deepEqual(new Set(gaps), new Set([7000]));
});

test('slot grid: a thousand targets are spread over the interval in 50 ms groups, not fired together', async () => {
  const clock = new FakeClock();
  const second = new Map<string, number>();
  let firstRound = 0;
  const probes = scheduler(clock, (target) => {
    if (firstRound < 1000) firstRound++;
    else if (!second.has(target.address)) second.set(target.address, clock.t);
    return Promise.resolve(OK);
  });
  const jobs: ProbeJob[] = [];
  for (let i = 0; i < 1000; i++) jobs.push(job(`127.1.${i >> 8}.${i & 255}`, check({ intervalMs: 5000 })));
  void probes.add(jobs);
  await probes.start();
  await clock.advance(5000);
  await probes.stop();
  assert.equal(second.size, 1000, 'every target probed again within one interval');
  // Probes due in the same 50 ms start together (one wake-up for the group); the groups are
  // spread over the whole interval: 100 slots in 5 s, about 10 probes each.
  const perSlot = new Map<number, number>();
  const perSecond = [0, 0, 0, 0, 0];
  for (const at of second.values()) {
    perSlot.set(at, (perSlot.get(at) ?? 0) + 1);
    perSecond[Math.min(4, Math.floor(at / 1000))]! += 1;
  }
  for (const at of perSlot.keys()) assert.equal(at % 50, 0, `probes start on the 50 ms grid (one at ${at} ms)`);
  assert.ok(perSlot.size >= 90, `at least 90 of the 100 slots used, got ${perSlot.size}`);
  assert.ok(Math.max(...perSlot.values()) <= 30, `at most 30 probes in one 50 ms slot, got ${Math.max(...perSlot.values())}`);
  for (const n of perSecond) assert.ok(n > 120 && n < 280, `per-second spread ${perSecond.join(',')}`);
});

test('slot grid: a due time inside a slot starts at the slot\'s end, and the phase is kept exact', async () => {
  const clock = new FakeClock();
  const { probes, calls } = recordingScheduler(clock, 0.123); // phase 123 ms of a 1 s interval
  void probes.add([job('127.0.9.7')]);
  await probes.start();
  await clock.advance(3000);
  await probes.stop();
  // Due at 123, 1123, 2123: each starts at the next 50 ms boundary; rounding never accumulates.
  assert.deepEqual(calls, [0, 150, 1150, 2150]);
});

test('missed ticks: a blocked event loop is counted, the probes due meanwhile run at once, and phases are kept', async () => {
  const clock = new FakeClock();
  const { probes, calls } = recordingScheduler(clock, 0.5);
  void probes.add([job('127.0.9.8', check({ intervalMs: 2000 }))]);
  await probes.start();
  await clock.advance(1200); // ticks at 1000; the probe due at 1000 ran
  assert.deepEqual(calls, [0, 1000]);
  assert.equal(probes.counters.missedTicks, 0);
  clock.stall(3500); // t = 4700: the ticks of 2000, 3000 and 4000 did not come; the probe due at 3000 did not run
  await clock.advance(0);
  assert.equal(probes.counters.missedTicks, 2, 'the late tick ran; the two before it were missed');
  assert.deepEqual(calls.slice(2), [4700], 'the turn due during the stall runs at once, once');
  await clock.advance(4000);
  await probes.stop();
  assert.deepEqual(calls.slice(3), [5000, 7000], 'then back on its phase (1000 + k × 2000)');
  assert.equal(probes.counters.missedTicks, 2);
});

test('no overlap: a turn due while the probe is in flight runs when it ends; stop() aborts the one in flight', async () => {
  const clock = new FakeClock();
  const started: number[] = [];
  let aborted = 0;
  let finish: ((result: ProbeResult) => void) | null = null;
  const probes = scheduler(
    clock,
    (_target, signal) => {
      started.push(clock.t);
      return new Promise<ProbeResult>((resolve) => {
        let settled = false;
        finish = (result) => {
          settled = true;
          resolve(result);
        };
        signal.addEventListener('abort', () => {
          if (!settled) aborted++;
          resolve({ ok: false, latencyMs: 0, reason: 'aborted' });
        });
      });
    },
    { random: () => 0.5, firstProbeSlackMs: 100 },
  );
  void probes.add([job('127.0.9.2')]);
  const first = probes.start();
  await clock.advance(700);
  await first; // bounded by timeout + slack even though the probe never settles
  await clock.advance(3300); // turns due at 500, 1500, 2500, 3500 find the first probe in flight
  assert.deepEqual(started, [0]);
  assert.equal(probes.counters.overlapSkips, 4);
  assert.equal(probes.isInFlight(job('127.0.9.2').key), true);
  finish!(OK);
  await clock.advance(0);
  assert.deepEqual(started, [0, 4000], 'one queued turn runs at once when the probe in flight ends');
  assert.equal(aborted, 0);
  await probes.stop();
  assert.equal(aborted, 1, 'the second probe, in flight at stop(), was aborted');
  assert.equal(probes.isInFlight(job('127.0.9.2').key), false);
});

test('remove: aborts the probe in flight, drops its result and probes the job no more', async () => {
  const clock = new FakeClock();
  const results: string[] = [];
  let probed = 0;
  const probes = scheduler(
    clock,
    (_target, signal) => {
      probed++;
      return new Promise<ProbeResult>((resolve) => signal.addEventListener('abort', () => resolve({ ok: false, latencyMs: 0, reason: 'aborted' })));
    },
    { onResult: (key) => results.push(key), firstProbeSlackMs: 0 },
  );
  const j = job('127.0.9.9');
  void probes.add([j]);
  const first = probes.start();
  await clock.advance(500);
  await first;
  probes.remove(j.key);
  await clock.advance(5000);
  await probes.stop();
  assert.equal(probed, 1);
  assert.deepEqual(results, [], 'an aborted probe is not a result');
  assert.equal(probes.isInFlight(j.key), false);
});

test('no throw from a tick, a timer or a probe completion escapes; the schedule goes on and each is counted', async () => {
  const clock = new FakeClock();
  const failingTimers = { left: 0 };
  // A clock whose timers can fail: the tick's slot placement then throws inside the tick.
  const monitorClock: MonitorClock = {
    now: () => clock.now(),
    setTimeout: (fn, ms) => {
      if (failingTimers.left > 0) {
        failingTimers.left--;
        throw new Error('timer table full');
      }
      return clock.setTimeout(fn, ms);
    },
    clearTimeout: (handle) => clock.clearTimeout(handle),
  };
  const { logger, lines } = captureLogger();
  const turns: number[] = [];
  const failures: string[] = [];
  const probes = new ProbeScheduler({
    logger,
    clock: monitorClock,
    tickSource: clock.ticks,
    random: () => 0.5,
    probe: () => {
      turns.push(clock.t);
      if (turns.length === 2) throw new Error('probe threw synchronously');
      // A probe that breaks its contract: resolves with nothing.
      if (turns.length === 3) return Promise.resolve(undefined as unknown as ProbeResult);
      return Promise.resolve(OK);
    },
    onResult: (_key, result) => {
      if (!result.ok) failures.push(result.reason);
      if (turns.length === 4) throw new Error('observer threw');
    },
  });
  const escaped = await escapedDuring(async () => {
    void probes.add([job('127.0.9.10')]);
    await probes.start(); // turn 1 at 0
    await clock.advance(1000); // turn 2 at 500: the probe throws synchronously (a failed result)
    await clock.advance(1000); // turn 3 at 1500: resolves with nothing, so onResult throws
    await clock.advance(1000); // turn 4 at 2500: onResult throws
    await clock.advance(1000); // turn 5 at 3500
    failingTimers.left = 1;
    await clock.advance(1000); // turn 6 at 4500; the tick at 5000 cannot place turn 7 (due 5500)
    await clock.advance(1000); // the tick at 6000 places it, late: at 6000
    await probes.stop();
  });
  assert.deepEqual(escaped, []);
  assert.deepEqual(turns, [0, 500, 1500, 2500, 3500, 4500, 6000], 'probing went on after every failure');
  assert.deepEqual(failures, ['error probe threw synchronously'], 'a synchronous throw is a failed probe');
  assert.equal(probes.counters.internalErrors, 3, 'garbage result, throwing observer, failed timer');
  const errors = lines().filter((l) => l.level === 50).map((l) => `${String(l.msg)}: ${String(l.reason)}`);
  assert.equal(errors.length, 3);
  assert.match(errors[0]!, /^health scheduler: probe result failed: .*undefined/);
  assert.equal(errors[1], 'health scheduler: probe result failed: observer threw');
  assert.equal(errors[2], 'health scheduler: tick failed: timer table full');
});
