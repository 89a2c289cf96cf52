/**
 * Regression (issue 12): a zone whose CNAMEs loop (a → b → a) passed `check` and was served with
 * the two records repeated; it is now rejected at the loop's first CNAME in the file, once per
 * loop, whichever way the file is read (whole or in pieces).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseZoneFile, type ParseResult } from './index.js';

const HEAD = `zone: geo.example.com
soa: { mname: ns1.geo.example.com, rname: hostmaster.example.com }
records:
  "@": { NS: [ns1, ns2] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 198.51.100.53 }
`;

function messages(result: ParseResult): string[] {
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

test('a two-name loop is reported at the first CNAME of the loop, with file:line:col', () => {
  const text = `${HEAD}  a: { CNAME: b }\n  b: { CNAME: a }\n`;
  assert.deepEqual(messages(parseZoneFile('loop.yaml', text)), [
    'loop.yaml:7:8: CNAME loop a.geo.example.com → b.geo.example.com → a.geo.example.com: no answer can end it; give one name of the chain records instead of a CNAME [cname-loop]',
  ]);
});

test('a name that is its own target is a loop', () => {
  const text = `${HEAD}  self: { CNAME: self.geo.example.com. }\n`;
  assert.deepEqual(messages(parseZoneFile('self.yaml', text)), [
    'self.yaml:7:11: CNAME loop self.geo.example.com → self.geo.example.com: no answer can end it; give one name of the chain records instead of a CNAME [cname-loop]',
  ]);
});

test('a chain leading into a loop reports the loop once, from its first name in the file', () => {
  const text = `${HEAD}  x: { CNAME: c }\n  c:\n    CNAME: d\n  b: { CNAME: c }\n  d: { CNAME: b }\n`;
  const result = parseZoneFile('into.yaml', text);
  assert.deepEqual(messages(result), [
    'into.yaml:9:5: CNAME loop c.geo.example.com → d.geo.example.com → b.geo.example.com → c.geo.example.com: no answer can end it; give one name of the chain records instead of a CNAME [cname-loop]',
  ]);
});

test('two loops are two diagnostics, in file order', () => {
  const text = `${HEAD}  a: { CNAME: b }\n  b: { CNAME: a }\n  p: { CNAME: q }\n  q: { CNAME: p }\n`;
  const lines = messages(parseZoneFile('two.yaml', text)).map((line) => line.split(': CNAME')[0]);
  assert.deepEqual(lines, ['two.yaml:7:8', 'two.yaml:9:8']);
});

test('long chains, chains out of the zone and to missing names are not loops', () => {
  const chain = Array.from({ length: 9 }, (_, i) => `  c${i}: { CNAME: c${i + 1} }`).join('\n');
  const text = `${HEAD}${chain}\n  c9: { A: 192.0.2.9 }\n  out: { CNAME: a.example.org. }\n  nowhere: { CNAME: missing }\n`;
  assert.equal(parseZoneFile('fine.yaml', text).ok, true);
});

test('read in pieces, a loop is reported at the same line as in a whole parse', () => {
  const filler = Array.from({ length: 50 }, (_, i) => `  n${i}: { A: 192.0.2.${i} }`).join('\n');
  const text = `${HEAD}${filler}\n  a: { CNAME: b }\n  b: { CNAME: a }\n`;
  const whole = messages(parseZoneFile('big.yaml', text, { piecewiseFrom: Infinity }));
  let piecesRead = 0;
  const pieces = messages(parseZoneFile('big.yaml', text, { piecewiseFrom: 0, afterPiece: () => piecesRead++ }));
  assert.ok(piecesRead > 0, 'the file was read in pieces, not sent to a whole parse');
  assert.equal(whole.length, 1);
  assert.match(whole[0]!, /^big\.yaml:57:8: CNAME loop a\.geo\.example\.com → b\.geo\.example\.com/);
  assert.deepEqual(pieces, whole);
});

test('a CNAME loop through a wildcard is a loop', () => {
  assert.deepEqual(messages(parseZoneFile('wild.yaml', `${HEAD}  "*.w": { CNAME: a.w.geo.example.com. }\n`)), [
    'wild.yaml:7:12: CNAME loop a.w.geo.example.com (from *.w.geo.example.com) → a.w.geo.example.com (from *.w.geo.example.com): no answer can end it; give one name of the chain records instead of a CNAME [cname-loop]',
  ]);
  assert.equal(messages(parseZoneFile('wild.yaml', `${HEAD}  "*.w": { CNAME: x.v.geo.example.com. }\n  "*.v": { CNAME: y.w.geo.example.com. }\n`)).length, 1);
  // Not a loop: the target exists, so the wildcard does not answer it.
  const ok = parseZoneFile('wild.yaml', `${HEAD}  "*.w": { CNAME: a.w.geo.example.com. }\n  a.w: { A: 192.0.2.1 }\n`);
  assert.ok(ok.ok, messages(ok).join('\n'));
});
