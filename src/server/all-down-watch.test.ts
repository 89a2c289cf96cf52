import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../test/support/capture-logger.js';
import { probeKeyOf, type HealthView, type MemberStatus } from '../health/index.js';
import type { Logger } from '../telemetry/index.js';
import { compileZone, parseZoneFile, ZoneCatalog } from '../zones/index.js';
import { AllDownWatch } from './all-down-watch.js';

function capture(): { logger: Logger; lines: () => { msg: string }[] } {
  const { logger, lines } = captureLogger();
  return { logger, lines: () => lines().map((line) => ({ msg: String(line.msg) })) };
}

const ZONE = `zone: down.test
ttl: 60
soa: { mname: ns1.down.test, rname: hostmaster.down.test, serial: 1 }
records:
  "@": { NS: [ns1.down.test] }
  ns1: { A: 192.0.2.53 }
  api: { failover: [primary, standby] }
  shut: { failover: [lone], when_all_down: fail-closed }
pools:
  primary: { members: [192.0.2.5] }
  standby: { members: [192.0.2.6] }
  lone: { members: [192.0.2.7] }
`;

function catalog(): ZoneCatalog {
  const parsed = parseZoneFile('down.yaml', ZONE);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.diagnostics));
  return new ZoneCatalog([compileZone(parsed.zone, 1, probeKeyOf)]);
}

/** Health whose down members the test sets; every change bumps the version, as the real views do. */
class TestHealth implements HealthView {
  version = 0;
  private readonly down = new Set<string>();
  status(_probeKey: string | null, address: string): MemberStatus {
    return this.down.has(address) ? 'down' : 'up';
  }
  set(address: string, up: boolean): void {
    if (up) this.down.delete(address);
    else this.down.add(address);
    this.version++;
  }
}

test('an all-down episode is said once when it starts and once when it ends, however often it is reviewed', async () => {
  const health = new TestHealth();
  const serving = { catalog: catalog(), health };
  const log = capture();
  const watch = new AllDownWatch(() => serving, log.logger, log.logger);
  await watch.review();
  assert.deepEqual(log.lines(), [], 'nothing is down');

  health.set('192.0.2.5', false);
  await watch.review();
  assert.deepEqual(log.lines(), [], 'the standby still answers');

  health.set('192.0.2.6', false);
  await watch.review();
  await watch.review();
  assert.deepEqual(
    log.lines().map((l) => l.msg),
    ['every pool is down for api.down.test (IPv4); answering the first pool anyway (fail-open)'],
  );

  health.set('192.0.2.6', true);
  await watch.review();
  assert.deepEqual(
    log.lines().map((l) => l.msg).slice(1),
    ['a pool is up again for api.down.test (IPv4)'],
  );
});

test('a fail-closed name says it answers NODATA', async () => {
  const health = new TestHealth();
  health.set('192.0.2.7', false);
  const log = capture();
  await new AllDownWatch(() => ({ catalog: catalog(), health }), log.logger, log.logger).review();
  assert.deepEqual(log.lines().map((l) => l.msg), ['every pool is down for shut.down.test (IPv4); answering NODATA (fail-closed)']);
});

test('at start-up the lists already down are taken in quietly (debug lines only), and their end is still said', async () => {
  const health = new TestHealth();
  health.set('192.0.2.5', false);
  health.set('192.0.2.6', false);
  const log = capture();
  const watch = new AllDownWatch(() => ({ catalog: catalog(), health }), log.logger, log.logger);
  const down = watch.startQuietly();
  assert.deepEqual(down.map((entry) => `${entry.name} ${entry.family}`), ['api.down.test 4']);
  assert.deepEqual(log.lines(), [], 'nothing above debug');
  await watch.review();
  assert.deepEqual(log.lines(), [], 'the same episode is not said again');
  health.set('192.0.2.5', true);
  await watch.review();
  assert.deepEqual(log.lines().map((l) => l.msg), ['a pool is up again for api.down.test (IPv4)']);
});

test('a burst of reviewSoon calls makes one review, and a stopped watch reviews no more', async () => {
  const health = new TestHealth();
  let reads = 0;
  const cat = catalog();
  const log = capture();
  const watch = new AllDownWatch(
    () => {
      reads++;
      return { catalog: cat, health };
    },
    log.logger,
    log.logger,
  );
  health.set('192.0.2.7', false);
  for (let i = 0; i < 10; i++) watch.reviewSoon();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 1);
  assert.equal(log.lines().length, 1);
  watch.stop();
  watch.reviewSoon();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reads, 1);
});

test('a review that fails is logged, and the watch goes on', async () => {
  const log = capture();
  let broken = true;
  const health = new TestHealth();
  const cat = catalog();
  const watch = new AllDownWatch(
    () => ({
      catalog: cat,
      health: broken
        ? {
            version: 1,
            status: () => {
              throw new Error('health view broke');
            },
          }
        : health,
    }),
    log.logger,
    log.logger,
  );
  await watch.review();
  assert.equal(log.lines()[0]!.msg, 'all-down review failed; the next health change reviews again');
  broken = false;
  health.set('192.0.2.7', false);
  await watch.review();
  assert.equal(log.lines()[1]!.msg, 'every pool is down for shut.down.test (IPv4); answering NODATA (fail-closed)');
});
