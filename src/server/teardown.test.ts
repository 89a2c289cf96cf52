import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../telemetry/index.js';
import { Teardown } from './teardown.js';

test('stops run last registered first, each once, even when called twice', async () => {
  const teardown = new Teardown(silentLogger());
  const order: string[] = [];
  teardown.add('a', () => void order.push('a'));
  teardown.add('b', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    order.push('b');
  });
  teardown.add('c', () => void order.push('c'));
  assert.equal(teardown.started, false);
  await Promise.all([teardown.run(), teardown.run()]);
  await teardown.run();
  assert.equal(teardown.started, true);
  assert.deepEqual(order, ['c', 'b', 'a']);
});

test('a stop that throws or rejects does not keep the others from running, and is logged by name', async () => {
  const lines: { msg: string; reason: string }[] = [];
  const logger = silentLogger();
  logger.warn = ((fields: { reason: string }, msg: string) => void lines.push({ msg, reason: fields.reason })) as typeof logger.warn;
  const teardown = new Teardown(logger);
  const order: string[] = [];
  teardown.add('geo watcher', () => void order.push('geo'));
  teardown.add('query log', () => Promise.reject(new Error('disk gone')));
  teardown.add('sockets', () => {
    throw new Error('socket already closed');
  });
  teardown.add('admin', () => void order.push('admin'));
  await teardown.run();
  assert.deepEqual(order, ['admin', 'geo']);
  assert.deepEqual(
    lines.map((l) => l.msg),
    ['stopping sockets failed', 'stopping query log failed'],
  );
  assert.match(lines[1]!.reason, /disk gone/);
});

test('own() registers the close of a part that exists, skips an absent one, and hands the part back', async () => {
  const teardown = new Teardown(silentLogger());
  const closed: string[] = [];
  const part = { close: () => void closed.push('part') };
  assert.equal(teardown.own('part', part), part);
  assert.equal(teardown.own('absent', null), null);
  teardown.add('after', () => void closed.push('after'));
  await teardown.run();
  assert.deepEqual(closed, ['after', 'part']);
});
