/**
 * Turns a decoded database record into the facts routing needs. Runs once per distinct record
 * (the locator caches the result per record object), never per query.
 */
import { continentOf } from './continents.js';
import { countryCentroid, type Coordinates } from './country-centroids.js';

/** What one location record says, normalised; frozen so locate() can share it between answers. */
export interface LocationFacts {
  readonly continent: string | undefined;
  readonly country: string | undefined;
  readonly subdivisions: readonly string[] | undefined;
  readonly coordinates: Coordinates | undefined;
}

/** Facts of a record with nothing usable in it. */
export const NO_LOCATION_FACTS: LocationFacts = Object.freeze({
  continent: undefined,
  country: undefined,
  subdivisions: undefined,
  coordinates: undefined,
});

type Loose = Readonly<Record<string, unknown>>;

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Loose)[key] : undefined;
}

function code(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.toUpperCase() : undefined;
}

function degrees(value: unknown, limit: number): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= limit ? value : undefined;
}

/**
 * Reads a GeoIP2/GeoLite2 City or Country record, or a flat `{country_code}` record (ip-location-db,
 * also `continent_code`, top-level `latitude`/`longitude`); fills the continent from the country
 * table and the coordinates from the country centroid when the record has none.
 */
export function readLocationRecord(record: unknown): LocationFacts {
  if (typeof record !== 'object' || record === null) return NO_LOCATION_FACTS;
  // A record without `country` (anycast, satellite) still has the registering country, which is
  // the best guess there is.
  const country =
    code(field(field(record, 'country'), 'iso_code')) ??
    code(field(record, 'country_code')) ??
    code(field(field(record, 'registered_country'), 'iso_code'));
  const continent =
    code(field(field(record, 'continent'), 'code')) ??
    code(field(record, 'continent_code')) ??
    (country === undefined ? undefined : continentOf(country));

  let subdivisions: readonly string[] | undefined;
  const subs = field(record, 'subdivisions');
  if (country !== undefined && Array.isArray(subs)) {
    const codes = subs.map((s) => code(field(s, 'iso_code'))).filter((c): c is string => c !== undefined);
    if (codes.length > 0) subdivisions = Object.freeze(codes.map((c) => `${country}-${c}`));
  }

  const location = field(record, 'location') ?? record;
  const lat = degrees(field(location, 'latitude'), 90);
  const lon = degrees(field(location, 'longitude'), 180);
  const coordinates =
    lat !== undefined && lon !== undefined
      ? Object.freeze({ lat, lon })
      : country === undefined
        ? undefined
        : countryCentroid(country);

  if (country === undefined && continent === undefined && coordinates === undefined) return NO_LOCATION_FACTS;
  return Object.freeze({ continent, country, subdivisions, coordinates });
}

/** The autonomous system number of an ASN (or ISP) record, if it has one. */
export function readAsnRecord(record: unknown): number | undefined {
  const asn = field(record, 'autonomous_system_number');
  return typeof asn === 'number' && Number.isInteger(asn) && asn >= 0 ? asn : undefined;
}
