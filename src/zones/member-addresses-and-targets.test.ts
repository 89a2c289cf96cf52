/**
 * Issue 12: pool members no client can reach (0.0.0.0, ::, 255.255.255.255) are rejected with
 * file:line:col; an IPv4-mapped member and a dotted target name outside the zone written without
 * its final dot load with a warning that says how it was read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDiagnostic, parseZoneFile } from './index.js';

function zoneWith(members: string, records = ''): string {
  return `zone: m.test
soa: { mname: ns1.m.test, rname: hostmaster.example.org }
pools:
  web:
    members: [192.0.2.1, ${members}]
records:
  "@": { NS: [ns1, ns2] }
  ns1: { A: 192.0.2.53 }
  ns2: { A: 198.51.100.53 }
  www: { pool: web }
${records}`;
}

for (const [address, what] of [
  ['0.0.0.0', 'unspecified'],
  ['"::"', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
] as const) {
  test(`a pool member ${address} is rejected at its line and column (unusable-address)`, () => {
    const result = parseZoneFile('m.yaml', zoneWith(address));
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.deepEqual(
      result.diagnostics.map((d) => [d.line, d.col, d.code]),
      [[5, 26, 'unusable-address']],
      result.diagnostics.map(formatDiagnostic).join('\n'),
    );
    assert.match(result.diagnostics[0]!.message, new RegExp(what));
  });
}

test('a member given as a mapping is checked the same way', () => {
  const result = parseZoneFile('m.yaml', zoneWith('{ address: 0.0.0.0, weight: 2 }'));
  assert.ok(!result.ok);
  assert.deepEqual(result.diagnostics.map((d) => [d.line, d.col, d.code]), [[5, 37, 'unusable-address']]);
});

test('an IPv4-mapped member loads with a mapped-address warning naming the IPv4 form', () => {
  const result = parseZoneFile('m.yaml', zoneWith('"::ffff:1.2.3.4"'));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.zone.warnings.map((d) => [d.line, d.col, d.code, d.severity]), [[5, 26, 'mapped-address', 'warning']]);
  assert.match(result.zone.warnings[0]!.message, /write 1\.2\.3\.4 to serve it in A answers/);
  assert.match(formatDiagnostic(result.zone.warnings[0]!), /^m\.yaml:5:26: warning: member ::ffff:1\.2\.3\.4 .* \[mapped-address\]$/);
});

test('ordinary members give no warning', () => {
  const result = parseZoneFile('m.yaml', zoneWith('"2001:db8::1", 198.51.100.7'));
  assert.ok(result.ok);
  assert.deepEqual(result.zone.warnings, []);
});

test('a dotted target outside the zone without a final dot warns how it was read and how to write it', () => {
  const result = parseZoneFile('m.yaml', zoneWith('192.0.2.2', '  eu: { CNAME: www.eu }\n  mx: { MX: [{ preference: 10, exchange: mail.example.org }] }\n'));
  assert.ok(result.ok, JSON.stringify(result));
  const [cname, mx, ...rest] = result.zone.warnings;
  assert.deepEqual(rest, []);
  assert.deepEqual([cname!.line, cname!.col, cname!.code], [11, 16, 'absolute-target']);
  assert.match(cname!.message, /"www\.eu" is read as the absolute name www\.eu\./);
  assert.match(cname!.message, /write "www\.eu\." to say so, or "www\.eu\.m\.test\." for a name in this zone/);
  assert.deepEqual([mx!.line, mx!.code], [12, 'absolute-target']);
  // The documented rule is kept: the name is read as absolute.
  const eu = result.zone.names.find((n) => n.name === 'eu.m.test');
  assert.deepEqual(eu?.records.get('CNAME'), [{ type: 'CNAME', target: 'www.eu' }]);
});

test('targets written explicitly, single labels, names ending with the zone and the SOA rname give no warning', () => {
  const result = parseZoneFile('m.yaml', zoneWith('192.0.2.2', '  a: { CNAME: www.eu. }\n  b: { CNAME: static }\n  c: { CNAME: www.m.test }\n'));
  assert.ok(result.ok, JSON.stringify(result));
  assert.deepEqual(result.zone.warnings, []);
});
