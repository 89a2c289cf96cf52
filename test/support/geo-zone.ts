/**
 * A geo zone for the end-to-end geo tests, written against the fixture networks of
 * geo-fixtures.ts. Every pool has one IPv4 and one IPv6 member of its own, so an answer
 * names the pool it came from: pool N answers 192.0.2.N and 2001:db8:ff::N.
 *
 * Which fixture client gets what from `www` (City + ASN databases):
 *   198.51.100.128/25 (US-CA)  network rule          → office
 *   2001:db8:de:1::/64 (DE)    network rule          → office
 *   90.0.0.0/16 (FR, AS3215)   asn beats country FR  → orange
 *   198.51.100.0/25 (US-CA)    subdivision beats US  → california
 *   2001:db8:ca::/48 (US-CA)   subdivision           → california
 *   81.2.69.0/25 (GB)          country               → london
 *   2a01:db8::/32 (FR, no AS)  country               → paris
 *   133.0.0.0/12, 2400:db8::/32 (JP) country         → tokyo
 *   81.2.69.128/25 (IE), 203.0.113.0/24 (DE)  continent EU → frankfurt
 *   100.64.0.0/10 (BR)         continent SA          → saopaulo
 *   anything else              default               → fallback
 */
import { query, type Address, type ParsedOpt, type ParsedResponse } from './dns-client.js';
import type { GeoFixtureNetwork } from './geo-fixtures.js';
import { double, type MmdbValue } from './mmdb-writer.js';

/** Pool name → index; the index is the last byte / group of its member addresses. */
export const POOL_INDEX = {
  london: 1,
  frankfurt: 2,
  paris: 3,
  tokyo: 4,
  virginia: 5,
  california: 6,
  office: 7,
  orange: 8,
  aaisp: 9,
  saopaulo: 10,
  fallback: 11,
  oregon: 12,
} as const;

export type PoolName = keyof typeof POOL_INDEX;

/** Where the `nearest` pools are. */
export const POOL_LOCATIONS: Partial<Record<PoolName, { lat: number; lon: number }>> = {
  paris: { lat: 48.8566, lon: 2.3522 },
  frankfurt: { lat: 50.1109, lon: 8.6821 },
  virginia: { lat: 38.9, lon: -77.03 },
  oregon: { lat: 45.52, lon: -122.68 },
  saopaulo: { lat: -23.55, lon: -46.63 },
};

export function poolA(pool: PoolName): string {
  return `192.0.2.${POOL_INDEX[pool]}`;
}

export function poolAAAA(pool: PoolName): string {
  return `2001:db8:ff::${POOL_INDEX[pool].toString(16)}`;
}

/** The pool an A or AAAA answer address belongs to, or undefined. */
export function poolOf(address: string): PoolName | undefined {
  for (const name of Object.keys(POOL_INDEX) as PoolName[]) {
    if (poolA(name) === address || poolAAAA(name) === address) return name;
  }
  return undefined;
}

function poolsYaml(extra = ''): string {
  const lines = ['pools:'];
  for (const name of Object.keys(POOL_INDEX) as PoolName[]) {
    const location = POOL_LOCATIONS[name];
    const where = location ? `, location: { lat: ${location.lat}, lon: ${location.lon} }` : '';
    lines.push(`  ${name}: { members: [${poolA(name)}, "${poolAAAA(name)}"]${where} }`);
  }
  return `${lines.join('\n')}\n${extra}`;
}

const HEAD = `zone: example.test
ttl: 300
soa:
  mname: ns1.example.test
  rname: hostmaster.example.test
  serial: 2026112201
  refresh: 7200
  retry: 900
  expire: 1209600
  minimum: 60
`;

/** The geo zone used by the routing, ECS and explain tests. */
export function geoZone(): string {
  return `${HEAD}
records:
  "@": { NS: [ns1.example.test] }
  ns1: { A: 192.0.2.53 }
  static: { A: 192.0.2.200, AAAA: "2001:db8::200" }
  alias: { CNAME: www }

  www:
    ttl: 30
    geo:
      network:
        "198.51.100.128/25": [office]
        "2001:db8:de:1::/64": [office]
      asn:         { AS3215: [orange] }
      subdivision: { US-CA: [california] }
      country:     { GB: [london], FR: [paris], JP: [tokyo], US: [virginia] }
      continent:   { EU: [frankfurt], SA: [saopaulo] }
      default:     [fallback]

  isp:                     # asn on both families: AS20712 holds 81.2.0.0/16 and 2a02:db8:1::/48
    geo:
      asn:     { 20712: [aaisp] }
      country: { GB: [london], FR: [paris] }
      default: [fallback]

  near:                    # nearest, below a country rule
    geo:
      country: { JP: [tokyo] }
      nearest: [virginia, oregon, saopaulo, frankfurt, paris]
      default: [fallback]

  lo:                      # only network rules: the loopback resolver is known
    geo:
      network: { "127.0.0.0/8": [office], "::1/128": [office] }
      default: [fallback]

${poolsYaml()}`;
}

/** What a geo query came back with, reduced to what the geo tests assert. */
export interface GeoAnswer {
  rcode: string;
  /** Addresses of the A/AAAA records of the answer section. */
  addresses: string[];
  /** The pool of every address (undefined for addresses of no pool). */
  pools: (PoolName | undefined)[];
  /** The pool of the first address, when all addresses come from one pool. */
  pool: PoolName | undefined;
  /** The echoed ECS option, if any. */
  ecs: ParsedOpt['ecs'];
  response: ParsedResponse;
}

/**
 * Asks `name` (relative to example.test unless it ends with a dot) with EDNS, and with an ECS
 * option for `subnet` when given.
 */
export async function ask(
  server: Address,
  name: string,
  type: string,
  subnet?: string,
  options: { tcp?: boolean; timeoutMs?: number } = {},
): Promise<GeoAnswer> {
  const fqdn = name.endsWith('.') ? name : `${name}.example.test`;
  const response = await query(server, fqdn, type, {
    edns: subnet === undefined ? {} : { clientSubnet: subnet },
    tcp: options.tcp,
    timeoutMs: options.timeoutMs ?? 2000,
  });
  const addresses = response.answer.filter((r) => r.type === 'A' || r.type === 'AAAA').map((r) => r.data);
  const pools = addresses.map(poolOf);
  const pool = pools.length > 0 && pools.every((p) => p === pools[0]) ? pools[0] : undefined;
  return { rcode: response.rcodeName, addresses, pools, pool, ecs: response.opt?.ecs, response };
}

/** A City record in MaxMind's schema for a fixture-style network (as geo-fixtures.ts writes them). */
export function cityRecord(n: Pick<GeoFixtureNetwork, 'continent' | 'country' | 'subdivisions' | 'location'>): MmdbValue {
  const names = (en: string): MmdbValue => ({ en });
  const record: Record<string, MmdbValue> = {
    continent: { code: n.continent, names: names(n.continent) },
    country: { iso_code: n.country, names: names(n.country) },
    registered_country: { iso_code: n.country, names: names(n.country) },
  };
  if (n.subdivisions.length > 0) record['subdivisions'] = n.subdivisions.map((s) => ({ iso_code: s, names: names(s) }));
  if (n.location) record['location'] = { latitude: double(n.location.lat), longitude: double(n.location.lon), accuracy_radius: 100 };
  return record;
}
