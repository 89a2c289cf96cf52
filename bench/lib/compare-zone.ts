/**
 * The comparison zone: the part of the contract zone (zones/example.test.yaml) that Meridian,
 * gdnsd and PowerDNS can all express — SOA and NS at the apex (with the ns1/ns2 glue),
 * `static` (3 A records), and `www` routed by country, then continent, then a default, to pools
 * that are plain IPv4 address lists with an HTTP health check. It is read from the contract file
 * (so it follows the contract) and written out in each server's own configuration language.
 *
 * Pool members are the contract's IPv4 members (127.0.x.y): the benchmark starts a tiny HTTP server
 * on each of them (bench/lib/health-http.ts) at a port chosen at run time, so every server's health
 * checks succeed against something real. The contract's AAAA members (and its `probe` indirection),
 * MX/TXT/CAA/SRV/CNAME and the weighted/failover pools are left out: not every server here has them.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { continentOf } from '../../src/geo/index.js';

export interface GeoRules {
  country: Record<string, string[]>;
  continent: Record<string, string[]>;
  default: string[];
}

export interface ComparisonZone {
  zone: string;
  ttl: number;
  soa: { mname: string; rname: string; serial: number; refresh: number; retry: number; expire: number; minimum: number };
  ns: string[];
  /** in-zone A records the NS names need (glue), relative name → addresses */
  glue: Record<string, string[]>;
  static: { name: string; ttl: number; a: string[] };
  www: { name: string; ttl: number; geo: GeoRules };
  /** pools used by www → their IPv4 member addresses */
  pools: Record<string, string[]>;
}

export interface HealthCheck {
  port: number;
  path: string;
  intervalS: number;
  timeoutS: number;
  rise: number;
  fall: number;
}

type Yaml = Record<string, unknown>;

function fail(why: string): never {
  throw new Error(`comparison zone: ${why} in the contract zone file (bench/lib/compare-zone.ts expects the shape of zones/example.test.yaml)`);
}

function seconds(v: unknown, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const m = /^(\d+)\s*([smhd]?)$/.exec(v.trim());
    if (m) return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2]!]!;
  }
  return fail(`bad duration for ${what}: ${String(v)}`);
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const isIpv4 = (s: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);

/** Reads the comparison subset out of the contract zone file. */
export function loadComparisonZone(contractFile: string): ComparisonZone {
  const doc = parse(readFileSync(contractFile, 'utf8')) as Yaml;
  const zone = String(doc.zone ?? fail('no zone'));
  const ttl = seconds(doc.ttl ?? 300, 'ttl');
  const soaIn = (doc.soa ?? fail('no soa')) as Yaml;
  const soa = {
    mname: String(soaIn.mname),
    rname: String(soaIn.rname),
    serial: Number(soaIn.serial ?? 1),
    refresh: seconds(soaIn.refresh, 'soa.refresh'),
    retry: seconds(soaIn.retry, 'soa.retry'),
    expire: seconds(soaIn.expire, 'soa.expire'),
    minimum: seconds(soaIn.minimum, 'soa.minimum'),
  };
  const records = (doc.records ?? fail('no records')) as Record<string, Yaml>;
  const ns = list(records['@']?.NS).map(String);
  if (ns.length === 0) fail('no NS at the apex');
  const glue: Record<string, string[]> = {};
  for (const host of ns) {
    const rel = host.endsWith(`.${zone}`) ? host.slice(0, -zone.length - 1) : null;
    if (rel !== null && records[rel]?.A !== undefined) glue[rel] = list(records[rel]!.A).map(String);
  }
  const st = records.static ?? fail('no static');
  const staticA = list(st.A).map(String);
  if (staticA.length === 0) fail('static has no A records');
  const www = records.www ?? fail('no www');
  const geoIn = (www.geo ?? fail('www has no geo')) as Yaml;
  const geo: GeoRules = {
    country: Object.fromEntries(Object.entries((geoIn.country ?? {}) as Record<string, unknown>).map(([k, v]) => [k, list(v).map(String)])),
    continent: Object.fromEntries(Object.entries((geoIn.continent ?? {}) as Record<string, unknown>).map(([k, v]) => [k, list(v).map(String)])),
    default: list(geoIn.default).map(String),
  };
  if (geo.default.length === 0) fail('www.geo has no default');
  const poolsIn = (doc.pools ?? fail('no pools')) as Record<string, Yaml>;
  const used = new Set([...Object.values(geo.country), ...Object.values(geo.continent), geo.default].flat());
  const pools: Record<string, string[]> = {};
  for (const name of used) {
    const p = poolsIn[name] ?? fail(`pool ${name} missing`);
    const members = list(p.members)
      .map((m) => (typeof m === 'string' ? m : String((m as Yaml).address)))
      .filter(isIpv4);
    if (members.length === 0) fail(`pool ${name} has no IPv4 member`);
    pools[name] = members;
  }
  return {
    zone,
    ttl,
    soa,
    ns,
    glue,
    static: { name: 'static', ttl: st.ttl === undefined ? ttl : seconds(st.ttl, 'static.ttl'), a: staticA },
    www: { name: 'www', ttl: www.ttl === undefined ? ttl : seconds(www.ttl, 'www.ttl'), geo },
    pools,
  };
}

/** Every address a health check must reach (one HTTP listener each). */
export function memberAddresses(z: ComparisonZone): string[] {
  return [...new Set(Object.values(z.pools).flat())];
}

/** The pool list for a client in `country` (null: unknown location), as the contract's rules say. */
export function poolListFor(z: ComparisonZone, country: string | null): string[] {
  if (country !== null) {
    const byCountry = z.www.geo.country[country];
    if (byCountry) return byCountry;
    const continent = continentOf(country);
    const byContinent = continent === undefined ? undefined : z.www.geo.continent[continent];
    if (byContinent) return byContinent;
  }
  return z.www.geo.default;
}

/** The addresses `www A` must get with every pool up: the first pool of the list. */
export function expectedAddresses(z: ComparisonZone, country: string | null): string[] {
  const first = poolListFor(z, country)[0]!;
  return [...z.pools[first]!].sort();
}

// ---------------------------------------------------------------------------------------------
// Meridian: a YAML zone in the contract format.

export function meridianZoneYaml(z: ComparisonZone, check: HealthCheck): string {
  const doc = {
    zone: z.zone,
    ttl: z.ttl,
    soa: z.soa,
    records: {
      '@': { NS: z.ns },
      ...Object.fromEntries(Object.entries(z.glue).map(([name, a]) => [name, { A: a }])),
      [z.static.name]: { ttl: z.static.ttl, A: z.static.a },
      [z.www.name]: { ttl: z.www.ttl, geo: z.www.geo },
    },
    pools: Object.fromEntries(Object.entries(z.pools).map(([name, members]) => [name, { check: 'web', members }])),
    checks: {
      web: {
        type: 'http', port: check.port, path: check.path, expect: 200,
        interval: `${check.intervalS}s`, timeout: `${check.timeoutS}s`, rise: check.rise, fall: check.fall,
      },
    },
  };
  return '# Written by the benchmark (bench/lib/compare-zone.ts): the comparison subset of zones/example.test.yaml,\n' +
    "# pools probed over HTTP against the benchmark's own loopback health server.\n" + stringify(doc);
}

// ---------------------------------------------------------------------------------------------
// gdnsd 3: config (plugin_geoip map + resource, http_status service type) and an RFC 1035 zone file.

export function gdnsdConfig(
  z: ComparisonZone,
  o: { host: string; port: number; geoipFile: string; runDir: string; stateDir: string; udpThreads: number; check: HealthCheck },
): string {
  const dcs = Object.keys(z.pools);
  const arr = (v: string[]): string => `[ ${v.join(', ')} ]`;
  // gdnsd's map is a hierarchy: continent → country. A country rule sits under its continent,
  // whose own `default` is the continent rule if there is one, else the top-level default.
  const continents = new Map<string, { rule: string[] | null; countries: [string, string[]][] }>();
  for (const [cont, rule] of Object.entries(z.www.geo.continent)) continents.set(cont, { rule, countries: [] });
  for (const [cc, rule] of Object.entries(z.www.geo.country)) {
    const cont = continentOf(cc);
    if (cont === undefined) throw new Error(`gdnsd: no continent for country ${cc}`);
    if (!continents.has(cont)) continents.set(cont, { rule: null, countries: [] });
    continents.get(cont)!.countries.push([cc, rule]);
  }
  const mapLines: string[] = [`          default => ${arr(z.www.geo.default)}`];
  for (const [cont, c] of continents) {
    if (c.countries.length === 0) {
      mapLines.push(`          ${cont} => ${arr(c.rule!)}`);
      continue;
    }
    mapLines.push(`          ${cont} => {`, `            default => ${arr(c.rule ?? z.www.geo.default)}`);
    for (const [cc, rule] of c.countries) mapLines.push(`            ${cc} => ${arr(rule)}`);
    mapLines.push('          }');
  }
  const q = (s: string): string => JSON.stringify(s);
  return [
    '# Written by the benchmark (bench/lib/compare-zone.ts)',
    'options => {',
    `  listen => [ ${q(`${o.host}:${o.port}`)} ]`,
    `  run_dir => ${q(o.runDir)}`,
    `  state_dir => ${q(o.stateDir)}`,
    `  udp_threads => ${o.udpThreads}`,
    '  tcp_threads => 1',
    '}',
    'service_types => {',
    '  web => {',
    '    plugin => http_status',
    `    port => ${o.check.port}`,
    `    url_path => ${q(o.check.path)}`,
    '    ok_codes => [ 200 ]',
    `    interval => ${o.check.intervalS}`,
    `    timeout => ${o.check.timeoutS}`,
    `    up_thresh => ${o.check.rise}`,
    '    ok_thresh => 1',
    `    down_thresh => ${o.check.fall}`,
    '  }',
    '}',
    'plugins => {',
    '  geoip => {',
    '    maps => {',
    '      www_map => {',
    `        geoip2_db => ${q(o.geoipFile)}`,
    `        datacenters => ${arr(dcs)}`,
    '        map => {',
    ...mapLines,
    '        }',
    '      }',
    '    }',
    '    resources => {',
    `      ${z.www.name} => {`,
    '        map => www_map',
    '        service_types => [ web ]',
    '        dcmap => {',
    ...dcs.map((dc) => `          ${dc} => ${arr(z.pools[dc]!)}`),
    '        }',
    '      }',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function gdnsdZoneFile(z: ComparisonZone): string {
  const fq = (n: string): string => (n.endsWith('.') ? n : `${n}.`);
  return [
    `$TTL ${z.ttl}`,
    `@ SOA ${fq(z.soa.mname)} ${fq(z.soa.rname)} ( ${z.soa.serial} ${z.soa.refresh} ${z.soa.retry} ${z.soa.expire} ${z.soa.minimum} )`,
    ...z.ns.map((n) => `@ NS ${fq(n)}`),
    ...Object.entries(z.glue).flatMap(([name, a]) => a.map((ip) => `${name} A ${ip}`)),
    ...z.static.a.map((ip) => `${z.static.name} ${z.static.ttl} A ${ip}`),
    `${z.www.name} ${z.www.ttl} DYNA geoip!${z.www.name}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// PowerDNS 4.7 geoip backend: pdns.conf and the backend's YAML zones file. No health checks.

/** Label under which the pdns zones file keeps the pool records that `services` points to. */
const PDNS_POOL_LABEL = '_pool';

export function pdnsConf(
  o: { host: string; port: number; geoipFile: string; zonesFile: string; socketDir: string; receiverThreads: number; distributorThreads: number; dnssecKeyDir?: string | null },
): string {
  return [
    '# Written by the benchmark (bench/lib/compare-zone.ts)',
    'launch=geoip',
    `geoip-database-files=mmdb:${o.geoipFile}`,
    `geoip-zones-file=${o.zonesFile}`,
    // signed: the backend's DNSSEC keys live in this folder (filled by pdnsutil secure-zone)
    ...(o.dnssecKeyDir ? [`geoip-dnssec-keydir=${o.dnssecKeyDir}`] : []),
    'edns-subnet-processing=yes',
    `local-address=${o.host}`,
    `local-port=${o.port}`,
    'daemon=no',
    'guardian=no',
    'disable-syslog=yes',
    'write-pid=no',
    `socket-dir=${o.socketDir}`,
    `receiver-threads=${o.receiverThreads}`,
    `distributor-threads=${o.distributorThreads}`,
    'reuseport=yes',
    'loglevel=4',
    'log-dns-queries=no',
    'webserver=no',
    'api=no',
    'primary=no',
    'secondary=no',
    // no outgoing security-status lookups from the benchmark
    'security-poll-suffix=',
    '',
  ].join('\n');
}

export function pdnsZonesYaml(z: ComparisonZone): string {
  const fqdn = (rel: string): string => (rel === '@' ? z.zone : rel.endsWith('.') ? rel.slice(0, -1) : `${rel}.${z.zone}`);
  const noDot = (n: string): string => n.replace(/\.$/, '');
  const pool = (key: string): string => `${key}.${PDNS_POOL_LABEL}.${z.zone}`;
  const a = (ips: string[], ttl?: number): unknown[] => ips.map((ip) => ({ a: ttl === undefined ? ip : { content: ip, ttl } }));
  const records: Record<string, unknown[]> = {
    [z.zone]: [
      { soa: `${noDot(z.soa.mname)} ${noDot(z.soa.rname)} ${z.soa.serial} ${z.soa.refresh} ${z.soa.retry} ${z.soa.expire} ${z.soa.minimum}` },
      ...z.ns.map((n) => ({ ns: noDot(n) })),
    ],
  };
  for (const [name, ips] of Object.entries(z.glue)) records[fqdn(name)] = a(ips);
  records[fqdn(z.static.name)] = a(z.static.a, z.static.ttl);
  // Only the first pool of each rule: PowerDNS's geoip backend has no health checks, so no failover down the list.
  for (const [cc, rule] of Object.entries(z.www.geo.country)) {
    const cont = continentOf(cc);
    if (cont === undefined) throw new Error(`pdns: no continent for country ${cc}`);
    records[pool(`${cc}.${cont}`.toLowerCase())] = a(z.pools[rule[0]!]!, z.www.ttl);
  }
  for (const [cont, rule] of Object.entries(z.www.geo.continent)) records[pool(cont.toLowerCase())] = a(z.pools[rule[0]!]!, z.www.ttl);
  records[pool('default')] = a(z.pools[z.www.geo.default[0]!]!, z.www.ttl);
  const doc = {
    domains: [
      {
        domain: z.zone,
        ttl: z.ttl,
        records,
        // tried in order; the first name that exists under records answers (%co/%cn are lower-cased)
        services: { [fqdn(z.www.name)]: [`%co.%cn.${PDNS_POOL_LABEL}.${z.zone}`, `%cn.${PDNS_POOL_LABEL}.${z.zone}`, pool('default')] },
      },
    ],
  };
  return `# Written by the benchmark (bench/lib/compare-zone.ts)\n${stringify(doc)}`;
}
