import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { silentLogger } from '../telemetry/logger.js';
import { embeddedGeoDatabasePath, isKnownContinentCode, isKnownCountryCode, normaliseClientAddress, openGeoLocator } from './index.js';

test('the embedded ip-location-db database loads as a flat location database and locates well-known addresses', async (t) => {
  const path = embeddedGeoDatabasePath();
  assert.ok(path.endsWith('geo-whois-asn-country.mmdb') && existsSync(path), path);
  const geo = await openGeoLocator([path], { logger: silentLogger(), watch: false });
  t.after(() => geo.close());
  assert.equal(geo.describe()[0]?.schema, 'flat');
  for (const ip of ['8.8.8.8', '1.1.1.1', '81.2.69.142', '2001:4860:4860::8888', '::ffff:9.9.9.9']) {
    const { address, family } = normaliseClientAddress(ip);
    const loc = geo.locate(address, family);
    assert.ok(loc.country !== undefined && isKnownCountryCode(loc.country), `${ip} → ${String(loc.country)}`);
    assert.ok(loc.continent !== undefined && isKnownContinentCode(loc.continent), ip);
    assert.ok(loc.coordinates, ip);
    assert.ok(loc.locationPrefixLength > 0 && loc.locationPrefixLength <= (family === 4 ? 32 : 128), ip);
  }
  // Google's resolver is registered in the US; this stays true across data updates.
  assert.equal(geo.locate('8.8.8.8', 4).country, 'US');
  const private10 = geo.locate('10.0.0.1', 4);
  assert.equal(private10.country, undefined);
  assert.ok(private10.locationPrefixLength >= 1 && private10.locationPrefixLength <= 8);
});
