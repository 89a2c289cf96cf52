/**
 * Differential test (issue 12): generated zones served by Meridian and by Knot, every generated
 * question asked of both, answers required to match in rcode, AA, answer and authority. A few
 * seeds here; `npm run difftest -- --seeds N` runs many (see test/difftest/README.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, presentDifference, runDifftest } from '../difftest/run-difftest.js';

const SEEDS = [1, 6, 18, 21, 24];

test(`Meridian answers as Knot does on seeds ${SEEDS.join(', ')}`, async () => {
  const report = await runDifftest({ seeds: SEEDS });
  assert.equal(report.seeds, SEEDS.length);
  assert.ok(report.questions > 1000, `only ${report.questions} questions were compared`);
  const summary = classify(report.differences).map(({ what, count, types }) => `${count} × ${what} (${types.join(' ')})`);
  const first = report.differences.slice(0, 5).map((d) => presentDifference(d));
  assert.equal(report.differences.length, 0, [...summary, '', ...first].join('\n'));
});
