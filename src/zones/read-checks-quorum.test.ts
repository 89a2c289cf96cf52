import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseZoneFile } from './index.js';

function zoneWithQuorum(quorum: string): string {
  return [
    'zone: q.test',
    'soa: { mname: ns1.q.test, rname: h.q.test, serial: 1 }',
    'records:',
    '  "@": { NS: [ns1.q.test] }',
    '  ns1: { A: 192.0.2.53 }',
    '  www: { pool: web-pool }',
    'pools:',
    '  web-pool: { members: [192.0.2.1], check: web }',
    'checks:',
    `  web: { type: tcp, port: 80, quorum: ${quorum} }`,
    '',
  ].join('\n');
}

test('quorum: any, majority, all and a number are read into the check', () => {
  for (const [text, quorum] of [['any', 'any'], ['majority', 'majority'], ['all', 'all'], ['2', 2]] as const) {
    const result = parseZoneFile('q.yaml', zoneWithQuorum(text));
    assert.ok(result?.ok, JSON.stringify(result));
    assert.equal(result.zone.checks.get('web')?.quorum, quorum);
  }
});

test('a bad quorum is reported at its file:line:col', () => {
  for (const text of ['most', '0', '1.5', '65']) {
    const result = parseZoneFile('q.yaml', zoneWithQuorum(text));
    assert.ok(result && !result.ok, text);
    const diagnostic = result.diagnostics[0]!;
    assert.equal(diagnostic.line, 10);
    assert.equal(diagnostic.col, 39);
    assert.match(diagnostic.message, /quorum must be any, majority, all or a number of instances from 1 to 64/);
  }
});
