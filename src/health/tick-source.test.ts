import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { silentLogger } from '../telemetry/logger.js';
import { cronTickSource } from './tick-source.js';

/** Resolves once `count()` reaches `target`; rejects after `limitMs`. */
function waitFor(count: () => number, target: number, limitMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = setInterval(() => {
      if (count() >= target) {
        clearInterval(poll);
        resolve();
      } else if (performance.now() - started > limitMs) {
        clearInterval(poll);
        reject(new Error(`${count()} of ${target} ticks within ${limitMs} ms`));
      }
    }, 20);
  });
}

describe('cronTickSource', () => {
  it('ticks from node-cron every second until stopped', async () => {
    let ticks = 0;
    const ticker = cronTickSource(silentLogger())(() => ticks++);
    try {
      await waitFor(() => ticks, 2, 5000);
    } finally {
      ticker.stop();
    }
  });

  it('keeps counting seconds in its own thread while the answering thread is busy: the ticks of a blocked stretch arrive after it', async () => {
    let ticks = 0;
    const ticker = cronTickSource(silentLogger())(() => ticks++);
    try {
      await waitFor(() => ticks, 1, 4000);
      const before = ticks;
      // Busy for 2.5 s: node-cron on this thread could not fire in it and would drop the missed
      // seconds; in its own thread it fires twice or more, and those messages wait here.
      const busyUntil = performance.now() + 2500;
      while (performance.now() < busyUntil);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.ok(ticks - before >= 2, `${ticks - before} ticks delivered after 2.5 s blocked`);
    } finally {
      ticker.stop();
    }
  });
});
