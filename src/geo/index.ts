/**
 * geo: where a client is. Owns the MaxMind DB files (City, Country, flat country_code, ASN):
 * opening, classifying, watching and hot-reloading them, and turning an address into a
 * ClientLocation with the prefix lengths routing needs for the ECS scope; plus the static
 * country tables (continent, centroid) and great-circle distance.
 * It must never: choose answers or pools (that is routing), log or await on the query path,
 * let a bad database file replace a good one or crash the process, or use maxmind's
 * watchForUpdates.
 */
export { UNKNOWN_LOCATION, type ClientLocation, type GeoLocator } from './client-location.js';
export {
  CONTINENT_CODES,
  COUNTRY_CONTINENTS,
  continentOf,
  isKnownContinentCode,
  isKnownCountryCode,
  type ContinentCode,
} from './continents.js';
export { COUNTRY_CENTROIDS, countryCentroid, type Coordinates } from './country-centroids.js';
export { greatCircleKm } from './great-circle.js';
export { normaliseClientAddress, type NormalisedAddress } from './normalise-client-address.js';
export { GeoDatabaseError, type GeoDatabaseKind, type GeoDatabaseSchema } from './geo-database.js';
export {
  openGeoLocator,
  type GeoDatabaseInfo,
  type GeoLocatorHandle,
  type GeoLocatorOptions,
  type GeoReloadListener,
} from './locate-client.js';
export { embeddedGeoDatabasePath, geoFilesOrEmbedded } from './embedded-database.js';
export { openServerGeo } from './open-geo.js';
