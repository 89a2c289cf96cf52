// geo/: where the bundled country database lies, so the default --geoip works from src/, dist/ and a global install.

import { createRequire } from 'node:module';

// Resolved through the package so it works from src/ (tsx), dist/ and a global install alike.
const EMBEDDED_DATABASE = '@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb';

/**
 * Absolute path of the bundled flat country database (ip-location-db geo-whois-asn-country,
 * IPv4 and IPv6, `{country_code}` records; data CC BY 4.0, NRO). A demo default, not production data.
 */
export function embeddedGeoDatabasePath(): string {
  return createRequire(import.meta.url).resolve(EMBEDDED_DATABASE);
}

/** The database files to open: those given, or the bundled country database when none are. */
export function geoFilesOrEmbedded(files: readonly string[] | undefined): readonly string[] {
  return files?.length ? files : [embeddedGeoDatabasePath()];
}
