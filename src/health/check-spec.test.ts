import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress, probeKeyOf } from './check-spec.js';
import type { CheckSpec } from './check-spec.js';

const web: CheckSpec = {
  type: 'http',
  port: 8080,
  path: '/healthz',
  expect: [200],
  verify: true,
  intervalMs: 5000,
  timeoutMs: 2000,
  rise: 2,
  fall: 3,
  name: 'web',
};

test('probeKeyOf: readable, independent of the check name and of address spelling', () => {
  assert.equal(probeKeyOf('127.0.1.1', web), 'http://127.0.1.1:8080/healthz expect=200 every=5000 timeout=2000 rise=2 fall=3');
  assert.equal(probeKeyOf('127.0.1.1', { ...web, name: 'other' }), probeKeyOf('127.0.1.1', web));
  assert.equal(probeKeyOf('2001:DB8:0::1', web), probeKeyOf('2001:db8::1', web));
  assert.match(probeKeyOf('2001:db8::1', web), /^http:\/\/\[2001:db8::1\]:8080\/healthz /);
  assert.equal(probeKeyOf('127.0.1.1', { ...web, expect: [503, 200, 200] }), probeKeyOf('127.0.1.1', { ...web, expect: [200, 503] }));
});

test('probeKeyOf: any content difference gives another key', () => {
  const base = probeKeyOf('127.0.1.1', web);
  const variants: Partial<CheckSpec>[] = [
    { port: 8081 },
    { path: '/' },
    { host: 'www.example.test' },
    { expect: [204] },
    { body: 'ok' },
    { intervalMs: 1000 },
    { timeoutMs: 1000 },
    { rise: 1 },
    { fall: 1 },
    { type: 'https' },
  ];
  const keys = new Set(variants.map((v) => probeKeyOf('127.0.1.1', { ...web, ...v })));
  assert.equal(keys.size, variants.length);
  assert.equal(keys.has(base), false);
  assert.notEqual(probeKeyOf('127.0.1.2', web), base);
  // verify matters for https only; tcp ignores http fields.
  const tcp: CheckSpec = { ...web, type: 'tcp', port: 8443 };
  assert.equal(probeKeyOf('127.0.5.1', tcp), 'tcp://127.0.5.1:8443 every=5000 timeout=2000 rise=2 fall=3');
  assert.equal(probeKeyOf('127.0.5.1', { ...tcp, path: '/x', body: 'y' }), probeKeyOf('127.0.5.1', tcp));
  assert.notEqual(probeKeyOf('127.0.1.1', { ...web, type: 'https', verify: false }), probeKeyOf('127.0.1.1', { ...web, type: 'https' }));
});

test('canonicalAddress', () => {
  assert.equal(canonicalAddress('192.0.2.1'), '192.0.2.1');
  assert.equal(canonicalAddress(' 2001:DB8:0:0:0:0:0:1 '), '2001:db8::1');
  assert.equal(canonicalAddress('[::1]'), '::1');
  // The zone layer's form (members are looked up by it): both spellings of a v4-mapped address agree.
  assert.equal(canonicalAddress('::FFFF:192.0.2.1'), '::ffff:c000:201');
  assert.equal(canonicalAddress('::ffff:c000:201'), '::ffff:c000:201');
  assert.equal(canonicalAddress('www.example.test'), null);
  assert.equal(canonicalAddress('192.0.2'), null);
});
