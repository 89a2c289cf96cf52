/**
 * /metrics rendered a metric at a time: the same text as prom-client's registry.metrics(), and
 * the event loop gets a turn while a long scrape renders.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Registry } from 'prom-client';
import { metricsInSlices } from './metrics.js';

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('metricsInSlices renders what registry.metrics() renders, with turns of the event loop between slow metrics', async () => {
  const registry = new Registry();
  const counter = new Counter({ name: 'a_total', help: 'a counter', labelNames: ['kind'], registers: [registry] });
  counter.inc({ kind: 'x' }, 3);
  counter.inc({ kind: 'y' });
  for (const name of ['slow_one', 'slow_two', 'slow_three']) {
    new Gauge({ name, help: 'takes a while to collect', registers: [registry], collect() {
      spin(1);
      this.set(7);
    } });
  }
  const whole = await registry.metrics();
  let turns = 0;
  const ticking = setInterval(() => turns++, 0);
  const sliced = await metricsInSlices(registry);
  clearInterval(ticking);
  assert.equal(sliced, whole);
  assert.ok(turns >= 2, `timers ran ${turns} times while the scrape rendered`);
});
