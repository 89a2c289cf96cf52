/**
 * What the geo layer tells routing about one client address. Prefix lengths are in the
 * address's own family (0–32 for IPv4, 0–128 for IPv6) and say how wide the database
 * network was that produced each part: routing turns them into the ECS scope.
 */
export interface ClientLocation {
  /** Two-letter continent code (AF, AN, AS, EU, NA, OC, SA). */
  continent?: string;
  /** ISO 3166-1 alpha-2 country code, upper case. */
  country?: string;
  /** ISO 3166-2 subdivision codes, country-prefixed ("US-CA"), most general first. */
  subdivisions?: readonly string[];
  /** Autonomous system number, from an ASN database. */
  asn?: number;
  /** Coordinates from the database, or the country centroid when it has none. */
  coordinates?: { readonly lat: number; readonly lon: number };
  /** Prefix length of the location (City/Country/flat) database network holding the address; 0 when none matched. */
  locationPrefixLength: number;
  /** Prefix length of the ASN database network holding the address; 0 when none matched or no ASN database. */
  asnPrefixLength: number;
}

/** Anything that can place an address; `family` is that of the (already normalised) address. */
export interface GeoLocator {
  locate(address: string, family: 4 | 6): ClientLocation;
}

/** The answer when nothing is known about a client. */
export const UNKNOWN_LOCATION: ClientLocation = Object.freeze({ locationPrefixLength: 0, asnPrefixLength: 0 });
