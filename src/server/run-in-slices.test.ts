import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAtOnce, runInSlices } from './run-in-slices.js';

function* counting(to: number): Generator<void, number, void> {
  let sum = 0;
  for (let i = 1; i <= to; i++) {
    sum += i;
    yield;
  }
  return sum;
}

test('runInSlices and runAtOnce resolve with the generator value', async () => {
  const result = await runInSlices(counting(50), () => false, 0);
  assert.equal(result, 1275);
  assert.equal(runAtOnce(counting(50)), 1275);
});

test('runInSlices resolves undefined once abandoned between two slices', async () => {
  let steps = 0;
  function* endless(): Generator<void, string, void> {
    for (;;) {
      steps++;
      yield;
    }
  }
  const result = await runInSlices(endless(), () => steps >= 5, 0);
  assert.equal(result, undefined);
  assert.ok(steps >= 5);
});

test('a throw in the first slice rejects the promise', async () => {
  // eslint-disable-next-line require-yield
  function* failsAtOnce(): Generator<void, number, void> {
    throw new Error('broken at once');
  }
  await assert.rejects(runInSlices(failsAtOnce(), () => false, 0), /broken at once/);
});

test('a throw in a later slice (inside setImmediate) rejects the promise instead of escaping as an uncaught exception', async () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): void => void uncaught.push(error);
  // The test runner turns an uncaught exception into a failure of whichever test runs; listen too,
  // so the assertion below names the defect.
  process.prependListener('uncaughtException', onUncaught);
  try {
    function* failsLater(): Generator<void, number, void> {
      yield;
      yield;
      throw new Error('broken in the third slice');
    }
    const outcome = await runInSlices(failsLater(), () => false, 0).then(
      () => 'resolved',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    assert.equal(outcome, 'broken in the third slice');
    assert.deepEqual(uncaught, []);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
