import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTINENT_CODES, COUNTRY_CONTINENTS, continentOf, isKnownContinentCode, isKnownCountryCode } from './continents.js';
import { COUNTRY_CENTROIDS, countryCentroid } from './country-centroids.js';

test('the continent table covers all 249 ISO 3166-1 codes plus XK', () => {
  const codes = Object.keys(COUNTRY_CONTINENTS);
  assert.equal(codes.length, 250);
  for (const code of codes) assert.match(code, /^[A-Z]{2}$/);
  // Every code Intl knows as a current region (minus reserved/exceptional ones) is in the table.
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  const reserved = new Set('AC AN BU CP CQ CS DD DG DY EA EU EZ FX HV IC NH QO RH SU TA TP UK UN VD XA XB YD YU ZR ZZ'.split(' '));
  for (let a = 65; a < 91; a++) {
    for (let b = 65; b < 91; b++) {
      const code = String.fromCharCode(a, b);
      if (names.of(code) !== code && !reserved.has(code)) assert.ok(isKnownCountryCode(code), code);
    }
  }
});

test('continent lookups', () => {
  assert.equal(continentOf('GB'), 'EU');
  assert.equal(continentOf('RU'), 'EU');
  assert.equal(continentOf('TR'), 'AS');
  assert.equal(continentOf('EG'), 'AF');
  assert.equal(continentOf('PA'), 'NA');
  assert.equal(continentOf('BR'), 'SA');
  assert.equal(continentOf('NZ'), 'OC');
  assert.equal(continentOf('AQ'), 'AN');
  assert.equal(continentOf('gb'), undefined);
  assert.equal(continentOf('__proto__'), undefined);
  assert.ok(Object.values(COUNTRY_CONTINENTS).every((c) => isKnownContinentCode(c)));
  assert.deepEqual([...CONTINENT_CODES], ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);
  assert.ok(isKnownContinentCode('OC'));
  assert.ok(!isKnownContinentCode('EUR'));
  assert.ok(!isKnownContinentCode('eu'));
  assert.ok(!isKnownCountryCode('UK'));
});

test('every country has a plausible centroid', () => {
  assert.deepEqual([...COUNTRY_CENTROIDS.keys()].sort(), Object.keys(COUNTRY_CONTINENTS).sort());
  for (const [code, c] of COUNTRY_CENTROIDS) {
    assert.ok(Math.abs(c.lat) <= 90 && Math.abs(c.lon) <= 180, code);
    assert.ok(Object.isFrozen(c), code);
  }
  // Spot checks: southern hemisphere, western hemisphere, continent-consistent.
  assert.ok((countryCentroid('AU')?.lat ?? 0) < 0);
  assert.ok((countryCentroid('US')?.lon ?? 0) < 0);
  assert.ok((countryCentroid('JP')?.lon ?? 0) > 120);
  assert.equal(countryCentroid('XX'), undefined);
});
