/**
 * The limiter's logic with the clock in the test's hands (`tick`): buckets of RATE refilled each
 * second, slips, prefixes, classes as separate tokens, exempt blocks, the bounded table, and the
 * review that tells when a prefix starts and stops being limited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogger } from '../../test/support/capture-logger.js';
import { logLimitingChanges } from './rate-limit-review.js';
import { ResponseClass } from './response-class.js';
import { DEFAULT_RATE_LIMIT, ResponseRateLimiter, Verdict, type RateLimitSettings } from './response-rate-limiter.js';
import { parseAddressBlock } from './client-address.js';

function limiter(settings: Partial<RateLimitSettings> = {}): ResponseRateLimiter {
  return new ResponseRateLimiter({ ...DEFAULT_RATE_LIMIT, rate: 5, ...settings }, 12345);
}

/** The verdicts of `count` responses of one token. */
function verdicts(l: ResponseRateLimiter, peer: string, count: number, responseClass: ResponseClass = ResponseClass.POSITIVE, name = 7): Verdict[] {
  return Array.from({ length: count }, () => l.decide(peer, responseClass, name));
}

const { SEND, SLIP, DROP, EXEMPT } = Verdict;

test('a token sends RATE responses a second; past that, every second limited response slips (slip 2) and the rest are dropped', () => {
  const l = limiter({ rate: 5 });
  assert.deepEqual(verdicts(l, '192.0.2.1', 11), [SEND, SEND, SEND, SEND, SEND, DROP, SLIP, DROP, SLIP, DROP, SLIP]);
  assert.deepEqual(l.counters, { limited: 6, slipped: 3, dropped: 3, badCookie: 0, evicted: 0 });
});

test('the bucket refills RATE per second passed, never above RATE (no burst saved up)', () => {
  const l = limiter({ rate: 3, slip: 0 });
  assert.deepEqual(verdicts(l, '192.0.2.1', 4), [SEND, SEND, SEND, DROP]);
  l.tick(2);
  assert.deepEqual(verdicts(l, '192.0.2.1', 4), [SEND, SEND, SEND, DROP]);
  l.tick(10); // eight quiet seconds: still only RATE
  assert.deepEqual(verdicts(l, '192.0.2.1', 4), [SEND, SEND, SEND, DROP]);
});

test('over the limit, a query with a client cookie gets BADCOOKIE instead of a drop or a slip; it still spends the token', () => {
  const l = limiter({ rate: 2, slip: 2 });
  const withCookie = (): Verdict => l.decide('192.0.2.1', ResponseClass.POSITIVE, 7, true);
  assert.deepEqual([withCookie(), verdicts(l, '192.0.2.1', 1)[0], withCookie(), withCookie(), ...verdicts(l, '192.0.2.1', 2)], [SEND, SEND, Verdict.BADCOOKIE, Verdict.BADCOOKIE, DROP, SLIP]);
  assert.deepEqual(l.counters, { limited: 4, slipped: 1, dropped: 1, badCookie: 2, evicted: 0 });
});

test('slip 0 drops every limited response, slip 1 slips every one, slip 3 every third', () => {
  assert.deepEqual(verdicts(limiter({ rate: 1, slip: 0 }), '192.0.2.1', 4), [SEND, DROP, DROP, DROP]);
  assert.deepEqual(verdicts(limiter({ rate: 1, slip: 1 }), '192.0.2.1', 4), [SEND, SLIP, SLIP, SLIP]);
  assert.deepEqual(verdicts(limiter({ rate: 1, slip: 3 }), '192.0.2.1', 7), [SEND, DROP, DROP, SLIP, DROP, DROP, SLIP]);
});

test('IPv4 clients share a token per /24 by default, and per the configured prefix', () => {
  const l = limiter({ rate: 2, slip: 0 });
  assert.deepEqual([...verdicts(l, '192.0.2.1', 2), ...verdicts(l, '192.0.2.254', 1), ...verdicts(l, '::ffff:192.0.2.9', 1)], [SEND, SEND, DROP, DROP]);
  assert.deepEqual(verdicts(l, '192.0.3.1', 1), [SEND], 'another /24');
  const narrow = limiter({ rate: 1, slip: 0, ipv4PrefixLength: 32 });
  assert.deepEqual([...verdicts(narrow, '192.0.2.1', 1), ...verdicts(narrow, '192.0.2.2', 1), ...verdicts(narrow, '192.0.2.1', 1)], [SEND, SEND, DROP]);
});

test('IPv6 clients share a token per /56 by default; the zone index of a link-local peer is ignored', () => {
  const l = limiter({ rate: 1, slip: 0 });
  assert.deepEqual([...verdicts(l, '2001:db8:0:1::1', 1), ...verdicts(l, '2001:db8:0:ff:1:2:3:4', 1)], [SEND, DROP], 'same /56');
  assert.deepEqual(verdicts(l, '2001:db8:0:100::1', 1), [SEND], 'the next /56');
  assert.deepEqual([...verdicts(l, 'fe80::1%eth0', 1), ...verdicts(l, 'fe80::2%2', 1)], [SEND, DROP]);
  const v6of48 = limiter({ rate: 1, slip: 0, ipv6PrefixLength: 48 });
  assert.deepEqual([...verdicts(v6of48, '2001:db8:1:100::1', 1), ...verdicts(v6of48, '2001:db8:1:ff00::1', 1), ...verdicts(v6of48, '2001:db8:2::1', 1)], [SEND, DROP, SEND]);
});

test('each response class, and each name within a class, is its own token for the same prefix', () => {
  const l = limiter({ rate: 1, slip: 0 });
  const peer = '198.51.100.7';
  for (const responseClass of [ResponseClass.POSITIVE, ResponseClass.NODATA, ResponseClass.NXDOMAIN, ResponseClass.REFERRAL, ResponseClass.ERROR]) {
    assert.deepEqual(verdicts(l, peer, 2, responseClass, 1), [SEND, DROP], `class ${responseClass}`);
  }
  assert.deepEqual(verdicts(l, peer, 2, ResponseClass.POSITIVE, 2), [SEND, DROP], 'another name');
});

test('exempt blocks are never limited; others in the same /24 still are', () => {
  const l = limiter({ rate: 1, slip: 0, exempt: [parseAddressBlock('192.0.2.128/25'), parseAddressBlock('2001:db8::53')] });
  assert.deepEqual(verdicts(l, '192.0.2.200', 3), [EXEMPT, EXEMPT, EXEMPT]);
  assert.deepEqual(verdicts(l, '2001:db8::53', 2), [EXEMPT, EXEMPT]);
  assert.deepEqual(verdicts(l, '192.0.2.1', 2), [SEND, DROP]);
  assert.deepEqual(verdicts(l, '2001:db8::54', 2), [SEND, DROP]);
});

test('the table is bounded: a million sources fill its slots and evict the least recently used, never grow', () => {
  const l = limiter({ rate: 1, slip: 0, tableSize: 64 });
  for (let i = 0; i < 1_000_000; i++) l.decide(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, ResponseClass.POSITIVE, i);
  assert.equal(l.tokensInUse(), 64);
  assert.ok(l.counters.evicted > 999_000, `evicted ${l.counters.evicted}`);
  // A token in steady use survives churn from others in the table: its bucket stays empty.
  const busy = limiter({ rate: 2, slip: 0, tableSize: 64 });
  assert.deepEqual(verdicts(busy, '203.0.113.1', 3), [SEND, SEND, DROP]);
  for (let i = 0; i < 200; i++) {
    busy.decide(`10.0.${i >> 8}.${i & 255}`, ResponseClass.POSITIVE, 1);
    assert.equal(busy.decide('203.0.113.1', ResponseClass.POSITIVE, 7), DROP, `after ${i} others`);
  }
});

test('tokens unused for a window are free again and no longer counted in use', () => {
  const l = limiter({ rate: 1, slip: 0, windowSeconds: 5 });
  verdicts(l, '192.0.2.1', 2);
  assert.equal(l.tokensInUse(), 1);
  l.tick(7);
  assert.equal(l.tokensInUse(), 0);
});

test('one log line when a prefix starts being limited, none while it stays limited, one a window after it stops', () => {
  const { logger, lines } = captureLogger();
  const l = limiter({ rate: 2, slip: 2, windowSeconds: 3 });
  verdicts(l, '192.0.2.1', 50);
  verdicts(l, '192.0.2.77', 50, ResponseClass.NXDOMAIN, 9);
  verdicts(l, '2001:db8::1', 2); // within the limit: never logged
  logLimitingChanges(l, logger);
  assert.deepEqual(
    lines().map((line) => [line.level, line.client, line.reason]),
    [[40, '192.0.2.0/24', 'nxdomain, positive']],
  );
  for (let second = 2; second <= 4; second++) {
    l.tick(second);
    verdicts(l, '192.0.2.1', 10);
    logLimitingChanges(l, logger);
  }
  assert.equal(lines().length, 1, 'still limited: nothing more');
  l.tick(7); // the last limited response was at second 4; the window is 3 s
  logLimitingChanges(l, logger);
  assert.equal(lines().length, 1, 'a window has not passed');
  l.tick(8);
  logLimitingChanges(l, logger);
  const stop = lines()[1]!;
  assert.equal(stop.client, '192.0.2.0/24');
  assert.equal(stop.level, 30);
  assert.match(String(stop.msg), /stopped/);
});
