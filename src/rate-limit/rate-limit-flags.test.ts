/** The `--rrl*` flags of `meridian serve`: defaults, bounds, and flags that need `--rrl`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rateLimitFromFlags } from './rate-limit-flags.js';

test("off without --rrl; --rrl RATE alone takes BIND's defaults (/24, /56, 15 s window, slip 2)", () => {
  assert.equal(rateLimitFromFlags({}), undefined);
  const settings = rateLimitFromFlags({ rrl: '20' })!;
  assert.deepEqual({ ...settings, exempt: settings.exempt.length }, { rate: 20, ipv4PrefixLength: 24, ipv6PrefixLength: 56, windowSeconds: 15, slip: 2, exempt: 0 });
});

test('every flag is read, --rrl-exempt repeatable', () => {
  const settings = rateLimitFromFlags({ rrl: '5', 'rrl-ipv4-prefix': '32', 'rrl-ipv6-prefix': '64', 'rrl-window': '30', 'rrl-slip': '0', 'rrl-exempt': ['192.0.2.0/24', '2001:db8::/32'] })!;
  assert.equal(settings.rate, 5);
  assert.equal(settings.ipv4PrefixLength, 32);
  assert.equal(settings.ipv6PrefixLength, 64);
  assert.equal(settings.windowSeconds, 30);
  assert.equal(settings.slip, 0);
  assert.deepEqual(settings.exempt.map((block) => block.text), ['192.0.2.0/24', '2001:db8::/32']);
});

test('bad values and RRL flags without --rrl are refused with what to write', () => {
  assert.throws(() => rateLimitFromFlags({ 'rrl-slip': '3' }), /--rrl-slip needs --rrl RATE/);
  assert.throws(() => rateLimitFromFlags({ 'rrl-exempt': ['10.0.0.0/8'] }), /--rrl-exempt needs --rrl RATE/);
  assert.throws(() => rateLimitFromFlags({ rrl: '0' }), /--rrl must be a whole number from 1 to/);
  assert.throws(() => rateLimitFromFlags({ rrl: 'lots' }), /--rrl must be a whole number/);
  assert.throws(() => rateLimitFromFlags({ rrl: '20', 'rrl-ipv4-prefix': '33' }), /--rrl-ipv4-prefix must be a whole number from 8 to 32/);
  assert.throws(() => rateLimitFromFlags({ rrl: '20', 'rrl-slip': '11' }), /--rrl-slip must be a whole number from 0 to 10/);
  assert.throws(() => rateLimitFromFlags({ rrl: '20', 'rrl-window': '' }), /--rrl-window must be/);
  assert.throws(() => rateLimitFromFlags({ rrl: '20', 'rrl-exempt': ['10.0.0.0/40'] }), /--rrl-exempt "10\.0\.0\.0\/40": the prefix length must be a whole number from 0 to 32/);
});
