/**
 * Issue 12: a message quotes the value as the file wrote it. JSON showed `.inf`, `.nan`, a
 * mapping and a list all as null ("not null").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseZoneFile } from './index.js';

function messagesFor(ttl: string, weight = '1'): string[] {
  const result = parseZoneFile(
    'v.yaml',
    `zone: v.test
ttl: ${ttl}
soa: { mname: ns1.v.test, rname: hostmaster.v.test }
pools:
  web: { members: [{ address: 192.0.2.1, weight: ${weight} }] }
records:
  "@": { NS: [ns1, ns2] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 198.51.100.53 }
  www: { pool: web }
`,
  );
  return result.ok ? [] : result.diagnostics.map(formatDiagnostic);
}

test('ttl: .inf is reported as .inf, not as null', () => {
  const [message, ...rest] = messagesFor('.inf');
  assert.deepEqual(rest, []);
  assert.match(message!, /^v\.yaml:2:6: ttl must be whole seconds \(300, "5m", "1h"\), not \.inf \[bad-duration\]$/);
});

test('a mapping, a list and an empty value are named as such', () => {
  assert.match(messagesFor('{ s: 5 }')[0]!, /not a mapping \[bad-duration\]$/);
  assert.match(messagesFor('[5]')[0]!, /not a list \[bad-duration\]$/);
  assert.match(messagesFor('')[0]!, /not an empty value \[bad-duration\]$/);
  assert.match(messagesFor('"5x"')[0]!, /not "5x" \[bad-duration\]$/);
});

test('weight: .nan is reported as .nan', () => {
  assert.match(messagesFor('300', '.nan')[0]!, /weight must be a whole number from 1 to 65535, not \.nan \[bad-value\]$/);
});
