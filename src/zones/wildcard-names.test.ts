/**
 * Wildcard owner names in zone files (RFC 4592): `"*"` and `"*.label"` load; `*` anywhere but as
 * the whole leftmost label and NS at a wildcard are each rejected with file:line:col, whichever
 * way the file is read (whole or in pieces). CNAME loops through wildcards: cname-loops.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseZoneFile, type ParseResult } from './index.js';

/** The zone with `names` (lines under `records:`), parsed whole and in pieces, which must agree. */
function parsedBothWays(names: string): ParseResult {
  const text = `zone: geo.example.com\nsoa: { mname: ns1, rname: hostmaster.example.com }\nrecords:\n  "@": { NS: [ns1] }\n  ns1: { A: 192.0.2.53 }\n  ns2: { A: 198.51.100.53 }\n${names}`;
  const whole = parseZoneFile('wild.yaml', text, { piecewiseFrom: Infinity });
  assert.deepEqual(parseZoneFile('wild.yaml', text, { piecewiseFrom: 0 }), whole);
  return whole;
}

const printed = (result: ParseResult): string[] => (result.ok ? [] : result.diagnostics.map(formatDiagnostic));

test('"*", "*.label" and an absolute "*.name." are wildcard owners', () => {
  const result = parsedBothWays(`  "*": { A: 192.0.2.1 }\n  "*.eu": { TXT: hi }\n  "*.us.geo.example.com.": { A: 192.0.2.2 }\n`);
  assert.ok(result.ok, printed(result).join('\n'));
  assert.deepEqual(result.zone.names.slice(3).map((entry) => entry.name), ['*.geo.example.com', '*.eu.geo.example.com', '*.us.geo.example.com']);
});

test('"*" inside a label or right of the leftmost label is refused at its key', () => {
  const text = `  "*www": { A: 192.0.2.1 }\n  "www*": { A: 192.0.2.1 }\n  "a.*": { A: 192.0.2.1 }\n  "a.*.b": { A: 192.0.2.1 }\n  "**": { A: 192.0.2.1 }\n`;
  const lines = printed(parsedBothWays(text));
  assert.deepEqual(
    lines.map((line) => line.split(': ')[0]),
    ['wild.yaml:7:3', 'wild.yaml:8:3', 'wild.yaml:9:3', 'wild.yaml:10:3', 'wild.yaml:11:3'],
  );
  assert.match(lines[2]!, /"a\.\*": "\*" is a wildcard only as the whole leftmost label \("\*" or "\*\.label", RFC 4592\).*\[bad-name\]$/);
});

test('NS at a wildcard is refused at its NS key', () => {
  assert.deepEqual(printed(parsedBothWays(`  "*.kids": { NS: [ns1] }\n`)), [
    'wild.yaml:7:15: a wildcard cannot hold NS records (RFC 4592 §4.2); delegate each child by its own name [bad-value]',
  ]);
});
