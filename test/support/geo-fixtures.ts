/**
 * Geo test databases, generated with mmdb-writer.ts: City, Country, ASN and flat country_code
 * files built from one table (GEO_FIXTURE_NETWORKS / ASN_FIXTURE_NETWORKS) so tests can state
 * what each address should resolve to. See geo-fixtures.md.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { double, writeMmdb, type MmdbValue } from './mmdb-writer.js';

/** One location network of the fixtures. */
export interface GeoFixtureNetwork {
  readonly cidr: string;
  readonly continent: string;
  readonly country: string;
  /** ISO 3166-2 subdivision codes without the country prefix, as MaxMind stores them. */
  readonly subdivisions: readonly string[];
  /** Present in the City database only; absent means a city record without `location`. */
  readonly location?: { readonly lat: number; readonly lon: number };
  /** An address inside the network. */
  readonly probe: string;
  /** What getWithPrefixLength reports for `probe` (differs from the CIDR where a nested network splits it). */
  readonly prefixLength: number;
}

/** One ASN network of the fixtures. */
export interface AsnFixtureNetwork {
  readonly cidr: string;
  readonly asn: number;
  readonly organization: string;
  readonly probe: string;
  readonly prefixLength: number;
}

/** Every location network in the City, Country and flat fixtures. */
export const GEO_FIXTURE_NETWORKS: readonly GeoFixtureNetwork[] = [
  // GB /24 with an IE /25 nested in its upper half: GB answers come back as /25, not /24.
  { cidr: '81.2.69.0/24', continent: 'EU', country: 'GB', subdivisions: ['ENG'], location: { lat: 51.5142, lon: -0.0931 }, probe: '81.2.69.10', prefixLength: 25 },
  { cidr: '81.2.69.128/25', continent: 'EU', country: 'IE', subdivisions: ['L'], location: { lat: 53.3331, lon: -6.2489 }, probe: '81.2.69.200', prefixLength: 25 },
  { cidr: '2a02:db8:1::/48', continent: 'EU', country: 'GB', subdivisions: ['ENG'], location: { lat: 51.5142, lon: -0.0931 }, probe: '2a02:db8:1::1', prefixLength: 48 },
  { cidr: '90.0.0.0/16', continent: 'EU', country: 'FR', subdivisions: ['IDF'], location: { lat: 48.8582, lon: 2.3387 }, probe: '90.0.12.34', prefixLength: 16 },
  { cidr: '2a01:db8::/32', continent: 'EU', country: 'FR', subdivisions: ['IDF'], location: { lat: 48.8582, lon: 2.3387 }, probe: '2a01:db8:5::1', prefixLength: 32 },
  { cidr: '133.0.0.0/12', continent: 'AS', country: 'JP', subdivisions: ['13'], location: { lat: 35.6895, lon: 139.6917 }, probe: '133.1.2.3', prefixLength: 12 },
  { cidr: '2400:db8::/32', continent: 'AS', country: 'JP', subdivisions: ['13'], location: { lat: 35.6895, lon: 139.6917 }, probe: '2400:db8::53', prefixLength: 32 },
  { cidr: '198.51.100.0/24', continent: 'NA', country: 'US', subdivisions: ['CA'], location: { lat: 37.7749, lon: -122.4194 }, probe: '198.51.100.7', prefixLength: 24 },
  { cidr: '2001:db8:ca::/48', continent: 'NA', country: 'US', subdivisions: ['CA'], location: { lat: 37.7749, lon: -122.4194 }, probe: '2001:db8:ca::7', prefixLength: 48 },
  { cidr: '203.0.113.0/24', continent: 'EU', country: 'DE', subdivisions: ['BE'], location: { lat: 52.52, lon: 13.405 }, probe: '203.0.113.99', prefixLength: 24 },
  { cidr: '2001:db8:de::/48', continent: 'EU', country: 'DE', subdivisions: ['BE'], location: { lat: 52.52, lon: 13.405 }, probe: '2001:db8:de::99', prefixLength: 48 },
  // Country-level only, even in the City database: coordinates must come from the BR centroid.
  { cidr: '100.64.0.0/10', continent: 'SA', country: 'BR', subdivisions: [], probe: '100.64.1.1', prefixLength: 10 },
];

/** Every network in the ASN fixture; 81.2.0.0/16 is wider than the location networks inside it. */
export const ASN_FIXTURE_NETWORKS: readonly AsnFixtureNetwork[] = [
  { cidr: '81.2.0.0/16', asn: 20712, organization: 'Andrews & Arnold Ltd', probe: '81.2.69.10', prefixLength: 16 },
  { cidr: '90.0.0.0/16', asn: 3215, organization: 'Orange S.A.', probe: '90.0.12.34', prefixLength: 16 },
  { cidr: '2a02:db8:1::/48', asn: 20712, organization: 'Andrews & Arnold Ltd', probe: '2a02:db8:1::1', prefixLength: 48 },
];

/**
 * Addresses covered by no fixture network, with the prefix length of the empty tree branch
 * holding them (the same in all four databases): 10/8 leaves the IPv4 tree after 2 bits (00 vs
 * 01/10/11), 2c0f:: leaves the IPv6 tree after 6 bits (001011 vs 001010 of 2a0x::).
 */
export const GEO_FIXTURE_MISS = { ipv4: '10.1.2.3', ipv4PrefixLength: 2, ipv6: '2c0f:db8::1', ipv6PrefixLength: 6 } as const;

/** Paths of the fixture databases written by buildGeoFixtures. */
export interface GeoFixturePaths {
  readonly city: string;
  readonly country: string;
  readonly asn: string;
  readonly flat: string;
}

const names = (en: string): MmdbValue => ({ en });

function cityRecord(n: GeoFixtureNetwork): MmdbValue {
  const record: Record<string, MmdbValue> = {
    continent: { code: n.continent, names: names(n.continent) },
    country: { iso_code: n.country, names: names(n.country) },
    registered_country: { iso_code: n.country, names: names(n.country) },
  };
  if (n.subdivisions.length > 0) record['subdivisions'] = n.subdivisions.map((s) => ({ iso_code: s, names: names(s) }));
  if (n.location) {
    record['location'] = { latitude: double(n.location.lat), longitude: double(n.location.lon), accuracy_radius: 100 };
  }
  return record;
}

function countryRecord(n: GeoFixtureNetwork): MmdbValue {
  return {
    continent: { code: n.continent, names: names(n.continent) },
    country: { iso_code: n.country, names: names(n.country) },
    registered_country: { iso_code: n.country, names: names(n.country) },
  };
}

/** The fixture databases as in-memory buffers (for tests that write or corrupt files themselves). */
export function buildGeoFixtureBuffers(buildEpoch = 1_750_000_000): Record<keyof GeoFixturePaths, Buffer> {
  const common = { buildEpoch, languages: ['en'] };
  return {
    city: writeMmdb({
      ...common,
      databaseType: 'GeoIP2-City',
      networks: GEO_FIXTURE_NETWORKS.map((n) => ({ cidr: n.cidr, data: cityRecord(n) })),
    }),
    country: writeMmdb({
      ...common,
      databaseType: 'GeoLite2-Country',
      networks: GEO_FIXTURE_NETWORKS.map((n) => ({ cidr: n.cidr, data: countryRecord(n) })),
    }),
    asn: writeMmdb({
      ...common,
      databaseType: 'GeoLite2-ASN',
      networks: ASN_FIXTURE_NETWORKS.map((n) => ({
        cidr: n.cidr,
        data: { autonomous_system_number: n.asn, autonomous_system_organization: n.organization },
      })),
    }),
    // ip-location-db style: no languages, no description, database_type "country ipvAll".
    flat: writeMmdb({
      buildEpoch,
      languages: [],
      description: {},
      databaseType: 'country ipvAll',
      networks: GEO_FIXTURE_NETWORKS.map((n) => ({ cidr: n.cidr, data: { country_code: n.country } })),
    }),
  };
}

/** Writes city.mmdb, country.mmdb, asn.mmdb and flat.mmdb into `dir` and returns their paths. */
export async function buildGeoFixtures(dir: string): Promise<GeoFixturePaths> {
  const buffers = buildGeoFixtureBuffers();
  const paths: GeoFixturePaths = {
    city: join(dir, 'city.mmdb'),
    country: join(dir, 'country.mmdb'),
    asn: join(dir, 'asn.mmdb'),
    flat: join(dir, 'flat.mmdb'),
  };
  await Promise.all((Object.keys(paths) as Array<keyof GeoFixturePaths>).map((k) => writeFile(paths[k], buffers[k])));
  return paths;
}
