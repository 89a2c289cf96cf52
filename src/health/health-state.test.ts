import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../test/support/capture-logger.js';
import { silentLogger } from '../telemetry/logger.js';
import type { CheckSpec } from './check-spec.js';
import { probeKeyOf } from './check-spec.js';
import type { HealthChange, OverrideState, TargetSpec } from './health-state.js';
import { HealthState } from './health-state.js';
import type { ProbeResult } from './probes/index.js';

function check(overrides: Partial<CheckSpec> = {}): CheckSpec {
  return { type: 'http', port: 8080, path: '/healthz', expect: [200], verify: true, intervalMs: 1000, timeoutMs: 500, rise: 3, fall: 2, name: 'web', ...overrides };
}

function targetSpec(address: string, c: CheckSpec = check(), pools: string[] = ['london']): TargetSpec {
  return { probeKey: probeKeyOf(address, c), address, check: c, members: pools.map((pool) => ({ zone: 'example.test', pool, address })) };
}

const OK: ProbeResult = { ok: true, latencyMs: 3 };
const FAIL: ProbeResult = { ok: false, latencyMs: 4, reason: 'HTTP 503' };
const TIMEOUT: ProbeResult = { ok: false, latencyMs: 500, reason: 'timeout after 500 ms' };

function stateWith(overrides = new Map<string, OverrideState>()): { state: HealthState; changes: HealthChange[] } {
  const state = new HealthState(overrides, silentLogger());
  const changes: HealthChange[] = [];
  state.onChange((c) => changes.push(c));
  return { state, changes };
}

test('rise/fall: the first probe sets the state; then fall failures take it down and rise successes bring it up', () => {
  const { state, changes } = stateWith();
  const spec = targetSpec('192.0.2.1');
  state.setTargets([spec]);
  const statusOf = (): string => state.status(spec.probeKey, spec.address);
  assert.equal(statusOf(), 'up', 'unprobed counts as up');
  const trace: string[] = [];
  for (const result of [OK, FAIL, OK, FAIL, TIMEOUT, OK, OK, FAIL, OK, OK, OK]) {
    state.record(spec.probeKey, result, 0);
    trace.push(`${statusOf()}@${state.version}`);
  }
  // fall 2: one failure (or one between successes) is not enough; rise 3: nor are two successes.
  assert.deepEqual(trace, ['up@0', 'up@0', 'up@0', 'up@0', 'down@1', 'down@1', 'down@1', 'down@1', 'down@1', 'down@1', 'up@2']);
  assert.deepEqual(
    changes.map((c) => c.kind === 'target' && [c.status, c.reason, c.initial, c.version]),
    [
      ['down', 'timeout after 500 ms', false, 1],
      ['up', '3 consecutive successes', false, 2],
    ],
  );
  assert.deepEqual(state.counters.probes, { web: { ok: 7, fail: 3, timeout: 1 } });
  assert.deepEqual(state.counters.stateChanges, { up: 1, down: 1 });
});

test('rise/fall: a failed first probe takes the target down at once, told as initial', () => {
  const { state, changes } = stateWith();
  const spec = targetSpec('192.0.2.2');
  state.setTargets([spec]);
  state.record(spec.probeKey, FAIL, 0);
  assert.equal(state.status(spec.probeKey, spec.address), 'down');
  assert.deepEqual(changes, [{ kind: 'target', version: 1, probeKey: spec.probeKey, address: '192.0.2.2', status: 'down', reason: 'HTTP 503', initial: true }]);
});

test('setTargets: same key merged, kept targets keep their state, a removed down target moves the version', () => {
  const { state } = stateWith();
  const a = targetSpec('192.0.2.3');
  const aElsewhere = { ...targetSpec('192.0.2.3', { ...check(), name: 'copy' }), members: [{ zone: 'other.test', pool: 'eu', address: '2001:db8::3' }] };
  assert.equal(a.probeKey, aElsewhere.probeKey);
  const b = targetSpec('192.0.2.4');
  assert.deepEqual(state.setTargets([a, aElsewhere, b]), { removed: [], added: [{ ...a, members: [...a.members, ...aElsewhere.members] }, b], retuned: [] });
  state.record(a.probeKey, FAIL, 0);
  const c = targetSpec('192.0.2.5');
  const diff = state.setTargets([a, c]);
  assert.deepEqual(diff, { removed: [b.probeKey], added: [c], retuned: [] });
  assert.equal(state.status(a.probeKey, a.address), 'down', 'kept target keeps its state');
  assert.equal(state.snapshot([], () => false).targets.find((t) => t.probeKey === a.probeKey)?.members.length, 1, 'with the new member list');
  const v = state.version;
  state.setTargets([c]);
  assert.equal(state.status(a.probeKey, a.address), 'up', 'a removed target: unknown key counts as up');
  assert.equal(state.version, v + 1, 'removing a down target changes answers');
  state.setTargets([]);
  assert.equal(state.version, v + 1, 'removing an up one does not');
  state.record(c.probeKey, FAIL, 0);
  assert.equal(state.version, v + 1, 'a late result of a removed target is dropped');
  assert.deepEqual(state.counters.probes, { web: { ok: 0, fail: 1, timeout: 0 } });
});

test('setTargets: a kept target whose quorum (or name) changed takes the new check and keeps its probe state and verdict', () => {
  const { state, changes } = stateWith();
  const majority = targetSpec('192.0.2.6', check({ quorum: 'majority' }));
  state.setTargets([majority]);
  state.record(majority.probeKey, OK, 0);
  state.record(majority.probeKey, FAIL, 0);
  state.record(majority.probeKey, FAIL, 0);
  state.setVerdict(majority.probeKey, 'up', 'fleet quorum majority: 2 of 3 fresh views up (2 needed)');
  const before = state.snapshot([], () => false).targets[0]!;
  const all = targetSpec('192.0.2.6', check({ quorum: 'all' }));
  assert.equal(all.probeKey, majority.probeKey, 'the quorum is not part of the probe key');
  const versionBefore = state.version;
  assert.deepEqual(state.setTargets([all]), { removed: [], added: [], retuned: [majority.probeKey] });
  const after = state.snapshot([], () => false).targets[0]!;
  assert.equal(after.check.quorum, 'all', 'the new quorum is in force at once');
  assert.deepEqual([after.own, after.verdict, after.status, after.streak, after.lastResult], [before.own, before.verdict, before.status, before.streak, before.lastResult], 'probe state and verdict are kept');
  assert.equal(state.version, versionBefore, 'answers do not change until the fleet decides again');
  assert.deepEqual(state.setTargets([all]), { removed: [], added: [], retuned: [] }, 'the same check again is no change');
  const renamed = targetSpec('192.0.2.6', check({ quorum: 'all', name: 'site' }));
  assert.deepEqual(state.setTargets([renamed]).retuned, [majority.probeKey]);
  state.record(majority.probeKey, OK, 0);
  assert.deepEqual(Object.keys(state.counters.probes).sort(), ['site', 'web'], 'later probes count under the new name');
  assert.equal(changes.filter((c) => c.kind === 'target').length, 2, 'down by its probes, up by the verdict; a retune alone tells nothing');
});

test('overrides win over probes; an applied override moves the version, is logged and told to listeners', () => {
  const overrides = new Map<string, OverrideState>();
  const { logger, lines } = captureLogger();
  const state = new HealthState(overrides, logger);
  const changes: HealthChange[] = [];
  state.onChange((c) => changes.push(c));
  const spec = targetSpec('192.0.2.6');
  state.setTargets([spec]);
  state.record(spec.probeKey, FAIL, 0);
  overrides.set('192.0.2.6', 'up');
  state.overrideApplied('192.0.2.6', null, 'up');
  assert.equal(state.status(spec.probeKey, '192.0.2.6'), 'up');
  overrides.set('192.0.2.7', 'drained');
  state.overrideApplied('192.0.2.7', null, 'drained');
  assert.equal(state.status(null, '192.0.2.7'), 'drained', 'members without a check too');
  overrides.delete('192.0.2.6');
  state.overrideApplied('192.0.2.6', 'up', null);
  assert.equal(state.status(spec.probeKey, '192.0.2.6'), 'down', 'back to its probes');
  assert.deepEqual(
    changes.slice(1).map((c) => c.kind === 'override' && [c.address, c.override, c.version]),
    [
      ['192.0.2.6', 'up', 2],
      ['192.0.2.7', 'drained', 3],
      ['192.0.2.6', null, 4],
    ],
  );
  assert.equal(state.counters.overrideChanges, 3);
  assert.deepEqual(
    lines().filter((l) => l.msg === 'member override').map((l) => [l.member, l.reason]),
    [
      ['192.0.2.6', 'override up'],
      ['192.0.2.7', 'override drained'],
      ['192.0.2.6', 'override up cleared'],
    ],
  );
  const snap = state.snapshot(overrides, () => false);
  assert.deepEqual(snap.overrides, [{ address: '192.0.2.7', state: 'drained' }]);
  assert.equal(snap.version, 4);
});

test('listeners: one that throws is logged and the others are still told; unsubscribed ones are not', () => {
  const { logger, lines } = captureLogger();
  const state = new HealthState(new Map(), logger);
  const told: string[] = [];
  state.onChange(() => {
    throw new Error('listener broke');
  });
  const off = state.onChange(() => told.push('second'));
  const spec = targetSpec('192.0.2.8');
  state.setTargets([spec]);
  state.record(spec.probeKey, FAIL, 0);
  off();
  state.record(spec.probeKey, OK, 0);
  state.record(spec.probeKey, OK, 0);
  state.record(spec.probeKey, OK, 0);
  assert.equal(state.status(spec.probeKey, spec.address), 'up');
  assert.deepEqual(told, ['second']);
  assert.equal(lines().filter((l) => l.msg === 'health onChange listener threw').length, 2);
});

test("state changes are logged once per member that uses the target, with zone, pool and check; the first probe's at debug", () => {
  const { logger, lines } = captureLogger();
  const state = new HealthState(new Map(), logger);
  const spec = targetSpec('192.0.2.9', check(), ['london', 'europe']);
  state.setTargets([spec]);
  for (const result of [FAIL, OK, OK, OK, FAIL, FAIL]) state.record(spec.probeKey, result, 0);
  assert.deepEqual(
    lines().map((l) => [l.level, l.msg, l.zone, l.pool, l.member, l.check, l.reason]),
    [
      [30, 'member up', 'example.test', 'london', '192.0.2.9', 'web', '3 consecutive successes'],
      [30, 'member up', 'example.test', 'europe', '192.0.2.9', 'web', '3 consecutive successes'],
      [40, 'member down', 'example.test', 'london', '192.0.2.9', 'web', 'HTTP 503'],
      [40, 'member down', 'example.test', 'europe', '192.0.2.9', 'web', 'HTTP 503'],
    ],
  );
});

test('snapshot: targets sorted by key with their last probe; the probe observer sees every result', () => {
  const observed: string[] = [];
  const state = new HealthState(new Map(), silentLogger(), (label, result) => observed.push(`${label}:${result.ok}`));
  const b = targetSpec('192.0.2.11');
  const a = targetSpec('192.0.2.10');
  state.setTargets([b, a]);
  state.record(b.probeKey, FAIL, Date.UTC(2026, 0, 1));
  const snap = state.snapshot([], (key) => key === a.probeKey);
  assert.deepEqual(snap.targets.map((t) => t.address), ['192.0.2.10', '192.0.2.11']);
  const [first, second] = snap.targets;
  assert.deepEqual([first?.probed, first?.inFlight, first?.lastResult, first?.lastProbeAt], [false, true, null, null]);
  assert.deepEqual([second?.status, second?.streak, second?.lastResult, second?.reason, second?.latencyMs, second?.lastProbeAt], ['down', -1, 'fail', 'HTTP 503', 4, '2026-01-01T00:00:00.000Z']);
  assert.equal(typeof second?.since, 'string');
  assert.deepEqual(observed, ['web:false']);
});
