import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLogLine } from './pretty-log.js';

test('a pino JSON line becomes time, level, message and key=value fields', () => {
  const line = JSON.stringify({ level: 40, time: '2026-12-03T05:31:02.123Z', zone: 'example.test', pool: 'london', member: '127.0.1.1', reason: 'connect ECONNREFUSED', msg: 'member down' });
  assert.equal(formatLogLine(line, false), '05:31:02.123 WARN  member down  zone=example.test pool=london member=127.0.1.1 reason="connect ECONNREFUSED"\n');
});

test('lists are comma-joined, objects stay JSON, a record without fields is just the message', () => {
  assert.equal(
    formatLogLine(JSON.stringify({ level: 30, time: '2026-12-03T05:31:02.000Z', pools: ['first', 'second'], extra: { a: 1 }, empty: '', msg: 'x' }), false),
    '05:31:02.000 INFO  x  pools=first,second extra={"a":1} empty=""\n',
  );
  assert.equal(formatLogLine(JSON.stringify({ level: 30, time: '2026-12-03T05:31:02.000Z', msg: 'stopped' }), false), '05:31:02.000 INFO  stopped\n');
});

test('colour wraps the level in ANSI codes; a line that is not JSON passes through', () => {
  const coloured = formatLogLine(JSON.stringify({ level: 50, time: '2026-12-03T05:31:02.000Z', msg: 'boom' }), true);
  assert.match(coloured, /\x1b\[31mERROR\x1b\[0m boom/);
  assert.equal(formatLogLine('not json', false), 'not json\n');
});
