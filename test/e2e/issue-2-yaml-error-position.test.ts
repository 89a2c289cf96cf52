/**
 * Regression (issue 2): YAML syntax errors (and duplicate keys) were all reported at 1:1,
 * because the yaml package only fills `linePos` when prettyErrors is on. The position must
 * come from the error's offset.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZoneFile } from '../../src/zones/index.js';

const HEAD = `zone: example.test
soa: { mname: ns1.example.test, rname: hostmaster.example.test, serial: 1 }
records:
  "@": { NS: [ns1.example.test] }
`;

test('a YAML syntax error points at its own line', () => {
  const result = parseZoneFile('z.yaml', `${HEAD}  ns1: { A: 192.0.2.53 }\n   www: { A: 192.0.2.1 }\n`);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.diagnostics.map((d) => `${d.line} ${d.code}`), ['6 yaml-syntax']);
});

test('a duplicate key points at the second occurrence', () => {
  const result = parseZoneFile('z.yaml', `${HEAD}  ns1: { A: 192.0.2.53 }\n  ns1: { A: 192.0.2.54 }\n`);
  assert.equal(result.ok, false);
  if (result.ok) return;
  assert.deepEqual(result.diagnostics.map((d) => `${d.line}:${d.col}`), ['6:3']);
});
