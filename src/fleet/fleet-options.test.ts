import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFleetOptions } from './fleet-options.js';

test('without --fleet there is no fleet, and fleet-only flags are refused', () => {
  assert.equal(parseFleetOptions({}), null);
  assert.equal(parseFleetOptions({ instance: 'ns1' }), null);
  assert.throws(() => parseFleetOptions({ creds: 'a.creds' }), /--fleet-creds needs --fleet URL/);
  assert.throws(() => parseFleetOptions({ ca: 'ca.pem' }), /--fleet-ca needs --fleet URL/);
});

test('several nats:// URLs become host:port servers; the instance defaults to the host name', () => {
  const options = parseFleetOptions({ fleet: 'nats://10.0.0.1:4222, nats://10.0.0.2,nats://[::1]:4300' }, 'host-a');
  assert.deepEqual(options?.servers, ['10.0.0.1:4222', '10.0.0.2:4222', '[::1]:4300']);
  assert.equal(options?.instance, 'host-a');
  assert.equal(options?.tls, false);
  assert.equal(options?.user, null);
  assert.equal(options?.token, null);
});

test('user:pass@ and token@ in URLs are taken out and masked for display', () => {
  const withUser = parseFleetOptions({ fleet: 'nats://meridian:s%40cret@127.0.0.1:4222', instance: 'ns1' });
  assert.deepEqual([withUser?.user, withUser?.pass, withUser?.servers[0]], ['meridian', 's@cret', '127.0.0.1:4222']);
  assert.equal(withUser?.displayUrls[0], 'nats://meridian:***@127.0.0.1:4222');
  const withToken = parseFleetOptions({ fleet: 'nats://t0ken@127.0.0.1:4222', instance: 'ns1' });
  assert.deepEqual([withToken?.token, withToken?.user], ['t0ken', null]);
  assert.equal(withToken?.displayUrls[0], 'nats://***@127.0.0.1:4222');
});

test('tls:// URLs or --fleet-ca ask for TLS; a mix of schemes is refused', () => {
  assert.equal(parseFleetOptions({ fleet: 'tls://a:4222,tls://b:4222', instance: 'x' })?.tls, true);
  const withCa = parseFleetOptions({ fleet: 'nats://a:4222', ca: '/etc/ca.pem', instance: 'x' });
  assert.deepEqual([withCa?.tls, withCa?.caFile], [true, '/etc/ca.pem']);
  assert.throws(() => parseFleetOptions({ fleet: 'tls://a:4222,nats://b:4222', instance: 'x' }), /mix of nats:\/\/ and tls:\/\//);
});

test('bad URLs, conflicting credentials and bad instance names get an error naming the flag', () => {
  assert.throws(() => parseFleetOptions({ fleet: 'http://a:4222', instance: 'x' }), /--fleet "http:\/\/a:4222": the scheme must be nats:\/\/ or tls:\/\//);
  assert.throws(() => parseFleetOptions({ fleet: ' , ', instance: 'x' }), /--fleet: expected nats:\/\/HOST:PORT/);
  assert.throws(() => parseFleetOptions({ fleet: 'nats://a:4222/path', instance: 'x' }), /expected only nats:\/\//);
  assert.throws(() => parseFleetOptions({ fleet: 'nats://u:p@a:4222', creds: 'x.creds', instance: 'x' }), /exclude each other/);
  assert.throws(() => parseFleetOptions({ fleet: 'nats://u:p@a:4222,nats://tok@b:4222', instance: 'x' }), /either user:pass@ or a token@/);
  assert.throws(() => parseFleetOptions({ fleet: 'nats://a:4222', instance: 'ns 1' }), /--instance "ns 1": expected 1 to 63 letters/);
  assert.throws(() => parseFleetOptions({ fleet: 'nats://a:4222' }, 'host.example.com'), /the host name; name this instance with --instance NAME/);
  assert.throws(() => parseFleetOptions({ instance: '.hidden' }), /--instance "\.hidden"/);
});
