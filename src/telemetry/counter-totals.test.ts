import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CounterTotals, WorkerCounterBook } from './counter-totals.js';
import { createMetrics, ProbeDurations } from './metrics.js';
import { QueryStats, snapshotCounters, type CounterSnapshot } from './query-stats.js';

/** A process that answered `queries` A queries in zone a.test and received as many datagrams. */
function processCounters(queries: number): CounterSnapshot {
  const stats = new QueryStats();
  for (let i = 0; i < queries; i++) stats.count('a.test', 1, 0);
  return snapshotCounters(stats, { udpReceived: queries });
}

function totalsOf(book: WorkerCounterBook<string>): CounterTotals {
  return new CounterTotals({ stats: new QueryStats(), transport: () => ({ udpReceived: 0 }) }, { counters: async () => book.snapshots() });
}

const answered = (totals: CounterTotals): number => totals.stats.byZone.get('a.test')![0]!;

test('summed worker counters never go down when a worker dies and is replaced', async () => {
  const book = new WorkerCounterBook<string>();
  const totals = totalsOf(book);
  book.report('w1', processCounters(100));
  book.report('w2', processCounters(40));
  await totals.gather();
  assert.equal(answered(totals), 140);
  assert.equal(totals.transport().udpReceived, 140);

  // w1 dies; its replacement w3 starts from zero.
  book.retire('w1');
  book.report('w3', processCounters(0));
  await totals.gather();
  assert.equal(answered(totals), 140, 'the dead worker’s totals are carried');

  book.report('w3', processCounters(5));
  book.retire('w2');
  book.retire('w2');
  await totals.gather();
  assert.equal(answered(totals), 145);
  assert.equal(totals.transport().udpReceived, 145);
});

test('a worker that does not report in time counts with its last report', async () => {
  const book = new WorkerCounterBook<string>();
  const totals = totalsOf(book);
  book.report('w1', processCounters(10));
  await totals.gather();
  // No new report from w1 before the next scrape.
  await totals.gather();
  assert.equal(answered(totals), 10);
});

test('/metrics exports the error counters a process keeps: handler, send, TCP listener, geo lookup and reload errors', async () => {
  const own = { udpReceived: 1, handlerErrors: 2, sendErrors: 3, tcpListenerErrors: 4, geoLookupErrors: 5, zoneReloadErrors: 6 };
  const registry = createMetrics(
    {
      counters: new CounterTotals({ stats: new QueryStats(), transport: () => own }),
      probes: () => ({}),
      healthChanges: () => ({ up: 0, down: 0 }),
      healthScheduler: () => ({ missedTicks: 0, overlapSkips: 0, internalErrors: 0 }),
      members: () => [],
      zones: () => [],
      zoneReloads: () => ({ ok: 0, failed: 0 }),
      udpIo: 'dgram',
    },
    new ProbeDurations(),
  );
  const text = await registry.metrics();
  const value = (name: string): string | undefined => text.split('\n').find((line) => line.startsWith(`${name} `))?.split(' ')[1];
  assert.equal(value('meridian_dns_handler_errors_total'), '2');
  assert.equal(value('meridian_dns_send_errors_total'), '3');
  assert.equal(value('meridian_dns_tcp_listener_errors_total'), '4');
  assert.equal(value('meridian_geo_lookup_errors_total'), '5');
  assert.equal(value('meridian_zone_reload_errors_total'), '6');
});
