import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { queriesByRcode, TrafficHistory } from './status-page/traffic-history.js';

test('queriesByRcode sums meridian_dns_queries_total by rcode over zones and types, the rarer rcodes as other', async () => {
  const registry = new Registry();
  const queries = new Counter({ name: 'meridian_dns_queries_total', help: 'h', labelNames: ['zone', 'type', 'rcode'], registers: [registry] });
  queries.inc({ zone: 'a.test', type: 'A', rcode: 'NOERROR' }, 5);
  queries.inc({ zone: 'b.test', type: 'AAAA', rcode: 'NOERROR' }, 2);
  queries.inc({ zone: 'a.test', type: 'A', rcode: 'NXDOMAIN' }, 3);
  queries.inc({ zone: '', type: 'A', rcode: 'FORMERR' }, 1);
  queries.inc({ zone: '', type: 'A', rcode: 'NOTIMP' }, 1);
  let gathered = 0;
  const totals = await queriesByRcode(registry, async () => void gathered++);
  assert.deepEqual(totals, { other: 2, NOERROR: 7, NXDOMAIN: 3, REFUSED: 0, SERVFAIL: 0 });
  assert.equal(gathered, 1, 'the counters kept elsewhere (cluster workers) are gathered first');
});

test('TrafficHistory keeps the last `capacity` samples, and a failed read leaves a gap instead of stopping it', async () => {
  let reads = 0;
  const history = new TrafficHistory(async () => {
    reads++;
    if (reads === 2) throw new Error('worker gone');
    return { NOERROR: reads };
  }, 5, 3);
  history.start();
  while (reads < 6) await new Promise((resolve) => setTimeout(resolve, 5));
  history.stop();
  const { samples, capacity, sampleMs } = history.snapshot();
  assert.equal(capacity, 3);
  assert.equal(sampleMs, 5);
  // Reads 1, 3, 4, 5 (and maybe 6) became samples; the ring holds the last three, in order.
  const values = samples.map((sample) => sample.rcodes.NOERROR!);
  assert.equal(values.length, 3);
  assert.ok(!values.includes(2), 'the failed read left no sample');
  assert.ok(values[0]! >= 3 && values[0]! < values[1]! && values[1]! < values[2]!, String(values));
});
