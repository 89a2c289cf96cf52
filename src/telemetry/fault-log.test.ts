import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../test/support/capture-logger.js';
import { FaultLog } from './fault-log.js';

const KINDS = { answer: { level: 'error', msg: 'answering threw' }, send: { level: 'warn', msg: 'a send failed' } } as const;
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('the first error is logged from the next turn, with its stack, never in the call that notes it', async () => {
  const log = captureLogger();
  const faults = new FaultLog(log.logger, KINDS);
  faults.note('answer', new Error('a bad record'));
  assert.deepEqual(log.lines(), [], 'nothing is written while noting');
  await turn();
  const [line] = log.lines();
  assert.equal(line!.msg, 'answering threw');
  assert.equal(line!.level, 50);
  assert.equal(line!.count, 1);
  assert.match(String(line!.reason), /a bad record[\s\S]*fault-log\.test\.ts/);
  faults.close();
});

test('a flood within one interval becomes one more line per kind, with its count, when the interval ends', async () => {
  const log = captureLogger();
  const faults = new FaultLog(log.logger, KINDS, 20);
  faults.note('answer', new Error('first'));
  await turn();
  for (let i = 0; i < 1000; i++) faults.note('answer', new Error(`flood ${i}`));
  faults.note('send', new Error('EPERM'));
  assert.equal(log.lines().length, 1, 'the flood waits for the interval');
  while (log.lines().length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  const [, answers, sends] = log.lines();
  assert.equal(answers!.count, 1000);
  assert.match(String(answers!.msg), /^answering threw \(1000 times since the last such line; the first shown\)$/);
  assert.match(String(answers!.reason), /flood 0/);
  assert.equal(sends!.level, 40);
  assert.equal(sends!.count, 1);
  faults.close();
});

test('close writes what is still waiting for the interval', async () => {
  const log = captureLogger();
  const faults = new FaultLog(log.logger, KINDS, 60_000);
  faults.note('send', new Error('one'));
  await turn();
  faults.note('send', new Error('two'));
  faults.note('send', new Error('three'));
  faults.close();
  assert.deepEqual(log.lines().map((line) => line.count), [1, 2]);
  faults.note('send', new Error('after close'));
  await turn();
  assert.equal(log.lines().length, 2);
});
