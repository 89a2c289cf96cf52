/**
 * The probe type table: names and settings, the probe keys each type gives, and what a zone
 * file may write for each (through the zone parser).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZoneFile } from '../zones/index.js';
import { probeKeyOf, type CheckSpec } from './check-spec.js';
import { CHECK_SETTING_KEYS, PROBE_TYPES, probeTypeNamed } from './probes/index.js';

const TIMING = { intervalMs: 5000, timeoutMs: 1000, rise: 2, fall: 3 };

test('probe types: one per name; the settings any type reads, in table order', () => {
  assert.deepEqual(PROBE_TYPES.map((type) => type.name), ['tcp', 'http', 'https']);
  assert.deepEqual(CHECK_SETTING_KEYS, ['path', 'host', 'expect', 'body', 'verify']);
});

test('probe types: the key holds every setting that changes the result, and only those', () => {
  const http: CheckSpec = { type: 'http', port: 80, path: '/h', host: 'A.Example', expect: [204, 200, 204], body: 'up now', verify: false, ...TIMING };
  assert.equal(probeKeyOf('192.0.2.1', http), 'http://192.0.2.1:80/h expect=200,204 host="a.example" body="up now" every=5000 timeout=1000 rise=2 fall=3');
  // verify only matters over TLS.
  assert.equal(probeKeyOf('192.0.2.1', { ...http, verify: true }), probeKeyOf('192.0.2.1', http));
  assert.equal(probeKeyOf('2001:DB8::1', { ...http, type: 'https' }), 'https://[2001:db8::1]:80/h expect=200,204 host="a.example" body="up now" verify=0 every=5000 timeout=1000 rise=2 fall=3');
  assert.equal(probeKeyOf('192.0.2.1', { ...http, type: 'tcp' }), 'tcp://192.0.2.1:80 every=5000 timeout=1000 rise=2 fall=3');
});

test('probe types: explain names a probe by type, address and port', () => {
  const check: CheckSpec = { type: 'https', port: 8443, path: '/', expect: [200], verify: true, ...TIMING };
  assert.equal(probeTypeNamed('https').describe('192.0.2.7', check), 'https 192.0.2.7:8443');
});

test('probe types: a check naming a setting its type does not read is reported at that key', () => {
  const text = 'zone: c.test\nsoa: { mname: ns1.c.test, rname: h.c.test }\nchecks:\n  t: { type: tcp, port: 80, body: up }\n  d: { type: dns, port: 53 }\nrecords:\n  "@": { NS: ns1 }\n';
  const result = parseZoneFile('c.yaml', text);
  assert.ok(!result.ok);
  assert.deepEqual(
    result.diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`),
    ['4:29 "body" applies to http and https checks, not tcp', '5:8 check "d" needs type: tcp, http, https'],
  );
});
