/**
 * Scenarios: what to ask (a weighted list of queries, each with the answer code it must get), how
 * hard (dnsperf duration, clients, outstanding queries, optional fixed offered rate -Q) and which
 * server variant (health on/off). The query list is written as a dnsperf data file: plain text
 * ("name TYPE" lines) when no query carries its own ECS option, else dnsperf's binary `-B` format
 * (length-prefixed wire messages) so that one file can mix queries with and without ECS.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { continentOf } from '../../src/geo/index.js';
import { expectedAddresses, loadComparisonZone, poolListFor } from './compare-zone.js';
import { tcpFrame } from '../../src/wire/index.js';
import { benchQuery, ecsDnsperfArgument } from './net.js';
import type { ServerVariant } from './servers.js';

export interface QuerySpec {
  name: string;
  type: string;
  /** EDNS Client Subnet for this query only (forces the binary data file) */
  ecs?: string;
  /** the response code every server must give; checked before the run (preflight) and in dnsperf's counts */
  expect: 'NOERROR' | 'NXDOMAIN';
  /** relative frequency in the data file */
  weight: number;
  /** the A addresses the answer must hold (any order), checked in the preflight */
  expectA?: string[];
  /** what the preflight expects, in words (e.g. "GB → london") */
  why?: string;
  /** DO=1 (forces the binary data file): the answer carries RRSIGs from a signed zone */
  dnssecOk?: boolean;
  /** NOERROR with no answer records is right (a signed zone's compact denial of a name that does not exist) */
  denial?: boolean;
  /**
   * The response code servers other than Meridian must give when it differs from `expect`
   * (PowerDNS denies a name with NXDOMAIN and NSEC3 where Meridian's compact denial says NOERROR)
   */
  peerExpect?: 'NOERROR' | 'NXDOMAIN';
}

/** The response code `server` must give to `query`. */
export function expectedRcode(query: QuerySpec, server: string): 'NOERROR' | 'NXDOMAIN' {
  return server === 'meridian' ? query.expect : (query.peerExpect ?? query.expect);
}

export interface Scenario {
  id: string;
  title: string;
  queries: QuerySpec[];
  /** ECS for every query, passed to dnsperf as `-E 8:<hex>` */
  ecs?: string;
  durationS: number;
  /** dnsperf -c */
  clients: number;
  /** dnsperf -q (outstanding queries in flight); dnsperf's default is 100 */
  maxOutstanding: number;
  /** dnsperf -Q: offered load; undefined = as fast as the server answers */
  offeredQps?: number;
  variant: ServerVariant;
  /** the issue's pass mark, if this scenario carries one */
  target?: { minQps: number; maxLost: number };
  notes: string;
  /**
   * part of the three-server comparison: every server serves the comparison zone (bench/lib/compare-zone.ts)
   * with the shared GeoIP2-Country file and health checks against the benchmark's HTTP endpoint
   */
  comparison?: { kind: 'throughput' | 'latency' };
  /** only these servers run it (default: every server that can serve its zone) */
  servers?: string[];
  /**
   * Servers that cannot serve the contract zone (PowerDNS) serve the comparison zone instead
   * (its www and static names answer alike), with the shared GeoIP2-Country file; Meridian keeps the contract zone
   */
  comparisonZoneForPeers?: boolean;
  /** never pinned under --pin auto (the comparison shares the machine between server and dnsperf) */
  unpinned?: boolean;
  /**
   * Random subdomains: the data file holds this many distinct names made from the one query of
   * `queries` (`r<N>-<name>`), each asked once per pass, more than any cache keeps.
   */
  uniqueNames?: number;
}

const Z = 'example.test';
const NO_HEALTH: ServerVariant = { health: false, workers: 1 };
const WITH_HEALTH: ServerVariant = { health: true, workers: 1 };

/** Client subnets whose location picks different pools for www (checked against the embedded database). */
export const ECS_SUBNETS = {
  GB: '81.2.69.0/24', // → london
  JP: '133.1.0.0/24', // → tokyo
  FR: '90.0.0.0/24', // → EU → frankfurt
  US: '8.8.8.0/24', // → NA → virginia
  GB6: '2a02:8010::/32', // → london, IPv6 ECS
} as const;

const STATIC_A: QuerySpec[] = [{ name: `static.${Z}`, type: 'A', expect: 'NOERROR', weight: 1 }];

/** The mixed workload: mostly cached-style static answers, some geo, some negative. */
const MIXED: QuerySpec[] = [
  { name: `static.${Z}`, type: 'A', expect: 'NOERROR', weight: 25 },
  { name: `static.${Z}`, type: 'AAAA', expect: 'NOERROR', weight: 10 },
  { name: Z, type: 'MX', expect: 'NOERROR', weight: 5 },
  { name: Z, type: 'TXT', expect: 'NOERROR', weight: 5 },
  { name: `alias.${Z}`, type: 'A', expect: 'NOERROR', weight: 5 },
  { name: `app.${Z}`, type: 'A', expect: 'NOERROR', weight: 5 },
  { name: `api.${Z}`, type: 'A', expect: 'NOERROR', weight: 5 },
  { name: `nope.${Z}`, type: 'A', expect: 'NXDOMAIN', weight: 6 },
  { name: `no-such-host-42.${Z}`, type: 'AAAA', expect: 'NXDOMAIN', weight: 4 },
  { name: `www.${Z}`, type: 'A', expect: 'NOERROR', weight: 10 },
  { name: `www.${Z}`, type: 'A', ecs: ECS_SUBNETS.GB, expect: 'NOERROR', weight: 5 },
  { name: `www.${Z}`, type: 'A', ecs: ECS_SUBNETS.JP, expect: 'NOERROR', weight: 5 },
  { name: `www.${Z}`, type: 'A', ecs: ECS_SUBNETS.FR, expect: 'NOERROR', weight: 5 },
  { name: `www.${Z}`, type: 'A', ecs: ECS_SUBNETS.US, expect: 'NOERROR', weight: 3 },
  { name: `www.${Z}`, type: 'AAAA', ecs: ECS_SUBNETS.GB6, expect: 'NOERROR', weight: 2 },
];

const CONTRACT_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../zones/example.test.yaml');

/** The comparison workload: geo with and without ECS (IPv4 and IPv6 subnets), static, NXDOMAIN; answers checked. */
export function comparisonQueries(contractFile = CONTRACT_FILE): QuerySpec[] {
  const z = loadComparisonZone(contractFile);
  const www = `${z.www.name}.${z.zone}`;
  const geo = (ecs: string | undefined, country: string | null, weight: number): QuerySpec => ({
    name: www,
    type: 'A',
    ecs,
    expect: 'NOERROR',
    weight,
    expectA: expectedAddresses(z, country),
    why: `${country ?? 'unknown location'}${country ? ` (${continentOf(country) ?? '?'})` : ''} → ${poolListFor(z, country)[0]}`,
  });
  return [
    geo(ECS_SUBNETS.GB, 'GB', 10),
    geo(ECS_SUBNETS.JP, 'JP', 10),
    geo(ECS_SUBNETS.FR, 'FR', 10),
    geo(ECS_SUBNETS.US, 'US', 10),
    geo(ECS_SUBNETS.GB6, 'GB', 10),
    // no ECS: the source address (127.0.0.1) is in no database → default
    geo(undefined, null, 15),
    { name: `${z.static.name}.${z.zone}`, type: 'A', expect: 'NOERROR', weight: 25, expectA: [...z.static.a].sort(), why: 'static' },
    { name: `nope.${z.zone}`, type: 'A', expect: 'NXDOMAIN', weight: 6 },
    { name: `no-such-host-42.${z.zone}`, type: 'AAAA', expect: 'NXDOMAIN', weight: 4 },
  ];
}

/** Meridian in the comparison as it starts by default: health on, one worker per CPU, `--io auto`. */
const COMPARE_VARIANT: ServerVariant = { health: true, workers: os.availableParallelism() };
/** Meridian with node:dgram asked for (`--io dgram`: what it uses where the native module is not built), otherwise as above. */
const DGRAM_VARIANT: ServerVariant = { ...COMPARE_VARIANT, io: 'dgram' };

export function comparisonScenarios(): Scenario[] {
  const queries = comparisonQueries();
  const mix = 'www A with ECS GB/JP/FR/US/GB-IPv6 50 %, www A without ECS 15 %, static A 25 %, NXDOMAIN 10 %; answers checked per server';
  /** One Meridian configuration at full speed and at a fixed 20,000 q/s, the two rows every comparison has. */
  const pair = (row: { suffix: string; who: string; variant: ServerVariant; meridianOnly: boolean; meridian: string }): Scenario[] => {
    const common = { queries, durationS: 10, clients: 4, maxOutstanding: 100, variant: row.variant, ...(row.meridianOnly ? { servers: ['meridian'] } : {}), unpinned: true };
    return [
      { id: `compare-max${row.suffix}`, title: `comparison mix, max throughput, ${row.who}`, ...common, comparison: { kind: 'throughput' }, notes: `${mix}; ${row.meridian}, health on; not pinned` },
      { id: `compare-latency${row.suffix}`, title: `comparison mix at a fixed 20,000 q/s, ${row.who}`, ...common, offeredQps: 20_000, comparison: { kind: 'latency' }, notes: `${mix}; dnsperf -Q 20000; ${row.meridian}, health on; not pinned` },
    ];
  };
  return [
    ...pair({ suffix: '', who: 'all servers', variant: COMPARE_VARIANT, meridianOnly: false, meridian: `Meridian as it starts by default (--io auto, --workers ${COMPARE_VARIANT.workers})` }),
    // One process: on 2 CPUs shared with dnsperf it may beat two (each wakes for fewer datagrams).
    ...pair({ suffix: '-w1', who: 'Meridian 1 process', variant: { ...COMPARE_VARIANT, workers: 1 }, meridianOnly: true, meridian: 'Meridian --io auto --workers 1' }),
    // node:dgram, what Meridian answers through where the native module cannot be built: judged against the same rows.
    ...pair({ suffix: '-dgram', who: 'Meridian --io dgram', variant: DGRAM_VARIANT, meridianOnly: true, meridian: `Meridian --io dgram --workers ${DGRAM_VARIANT.workers}` }),
  ];
}

export function defaultScenarios(): Scenario[] {
  return [...meridianScenarios(), ...comparisonScenarios()];
}

/** The Meridian-only scenarios on the contract zone. */
export function meridianScenarios(): Scenario[] {
  return [
    {
      id: 'static',
      title: 'static A, max throughput, health off',
      queries: STATIC_A,
      durationS: 15,
      clients: 4,
      maxOutstanding: 100,
      variant: NO_HEALTH,
      target: { minQps: 40_000, maxLost: 0 },
      notes: '`static.example.test A` only (3 A records, shuffled per answer); `--no-health`: the pure answer path',
    },
    {
      id: 'static-health',
      title: 'static A, max throughput, health on',
      queries: STATIC_A,
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: WITH_HEALTH,
      notes: 'as `static` with health checks running (the sample pools probe 127.0.x.x and fail fast; answers fail open)',
    },
    {
      id: 'static-workers',
      title: 'static A, max throughput, one process per CPU',
      queries: STATIC_A,
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: { health: false, workers: os.availableParallelism() },
      notes: 'as `static` with Meridian\'s default `--workers` (one per CPU); when that leaves no CPU for dnsperf, nothing is pinned and the two share the machine',
    },
    {
      id: 'mixed',
      title: 'mixed types, max throughput',
      queries: MIXED,
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: NO_HEALTH,
      notes: 'static A/AAAA, MX, TXT, CNAME, weighted pool, failover, NXDOMAIN (10%), www A with and without per-query ECS',
    },
    {
      id: 'geo-ecs',
      title: 'www A with ECS, max throughput',
      queries: [{ name: `www.${Z}`, type: 'A', expect: 'NOERROR', weight: 1 }],
      ecs: ECS_SUBNETS.GB,
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: NO_HEALTH,
      notes: `\`www.example.test A\` with ECS ${ECS_SUBNETS.GB} on every query (dnsperf \`-E ${ecsDnsperfArgument(ECS_SUBNETS.GB)}\`): geo lookup + answer`,
    },
    {
      id: 'latency',
      title: 'mixed at a fixed 20,000 q/s',
      queries: MIXED,
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      offeredQps: 20_000,
      variant: NO_HEALTH,
      notes: 'the `mixed` file at a fixed offered load (dnsperf `-Q 20000`): latency below saturation',
    },
    ...signedScenarios(),
  ];
}

/**
 * The contract zone signed (`--keys` with one ECDSA P-256 CSK): geo+ECS with DO=1 beside DO=0, and
 * random subdomains; PowerDNS beside it, signing the comparison zone online (`geoip-dnssec-keydir`).
 */
export function signedScenarios(contractFile = CONTRACT_FILE): Scenario[] {
  const SIGNED: ServerVariant = { health: false, workers: 1, dnssec: true };
  const z = loadComparisonZone(contractFile);
  const geo = (dnssecOk: boolean): QuerySpec[] =>
    (['GB', 'JP', 'FR', 'US'] as const).map((country) => ({
      name: `www.${Z}`,
      type: 'A',
      ecs: ECS_SUBNETS[country],
      expect: 'NOERROR',
      weight: 1,
      dnssecOk,
      expectA: expectedAddresses(z, country),
      why: `${country} → ${poolListFor(z, country)[0]}`,
    }));
  const servers = ['meridian', 'pdns'];
  return [
    {
      id: 'signed-geo-ecs-do0',
      title: 'www A with ECS, signed zone, DO=0',
      queries: geo(false),
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: SIGNED,
      servers,
      comparisonZoneForPeers: true,
      notes: `\`www.example.test A\` with ECS GB/JP/FR/US, no DO bit, from the signed contract zone: the unsigned answers of a signed server (the baseline of \`signed-geo-ecs\`); PowerDNS serves the comparison zone signed`,
    },
    {
      id: 'signed-geo-ecs',
      title: 'www A with ECS and DO=1, signed zone',
      queries: geo(true),
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: SIGNED,
      servers,
      comparisonZoneForPeers: true,
      notes: 'as `signed-geo-ecs-do0` with the DO bit: each answer carries the RRSIG of its member set, signed once and kept (issue 17 target: at least 0.8× the DO=0 q/s); the preflight checks every RRSIG against the zone\'s key',
    },
    {
      id: 'signed-random-subdomain',
      title: 'random subdomains with DO=1, signed zone (one signature per query)',
      queries: [{ name: `nope.${Z}`, type: 'A', expect: 'NOERROR', peerExpect: 'NXDOMAIN', weight: 1, dnssecOk: true, denial: true }],
      uniqueNames: 100_000,
      durationS: 10,
      clients: 4,
      maxOutstanding: 100,
      variant: SIGNED,
      servers,
      comparisonZoneForPeers: true,
      notes: '100,000 distinct non-existent names (`r<N>-nope.example.test A`, DO=1), ten times the 10,000 denials a zone keeps: every answer is a new compact-denial NSEC signed on the spot, so q/s here is signatures per second, and the latency is the server\'s while it signs (PowerDNS: NXDOMAIN with three NSEC3 white lies, one of them new per name)',
    },
  ];
}

/** Deterministic interleaving of the weighted list (smooth weighted round-robin), one cycle long. */
export function expandQueries(queries: QuerySpec[]): QuerySpec[] {
  const total = queries.reduce((sum, q) => sum + q.weight, 0);
  const current = queries.map(() => 0);
  const out: QuerySpec[] = [];
  for (let i = 0; i < total; i++) {
    let best = 0;
    queries.forEach((q, j) => {
      current[j]! += q.weight;
      if (current[j]! > current[best]!) best = j;
    });
    current[best]! -= total;
    out.push(queries[best]!);
  }
  return out;
}

export interface DataFile {
  path: string;
  binary: boolean;
  lines: number;
}

export function writeDataFile(scenario: Scenario, file: string): DataFile {
  const sequence = scenario.uniqueNames === undefined ? expandQueries(scenario.queries) : uniqueQueries(scenario.queries[0]!, scenario.uniqueNames);
  const binary = sequence.some((q) => q.ecs !== undefined || q.dnssecOk === true);
  if (binary && scenario.ecs !== undefined) throw new Error(`${scenario.id}: dnsperf cannot combine -B with -E`);
  if (binary) {
    writeFileSync(file, Buffer.concat(sequence.map((q) => tcpFrame(benchQuery(q.name, q.type, { ecs: q.ecs, dnssecOk: q.dnssecOk })))));
  } else {
    writeFileSync(file, sequence.map((q) => `${q.name} ${q.type}\n`).join(''));
  }
  return { path: file, binary, lines: sequence.length };
}

/** `count` copies of `query`, each under its own name (`r<N>-<name>`). */
function uniqueQueries(query: QuerySpec, count: number): QuerySpec[] {
  return Array.from({ length: count }, (_, i) => ({ ...query, name: `r${i}-${query.name}` }));
}

/** Expected share of each response code, from the weights. */
export function expectedRcodeShares(scenario: Scenario): Record<string, number> {
  const total = scenario.queries.reduce((sum, q) => sum + q.weight, 0);
  const out: Record<string, number> = {};
  for (const q of scenario.queries) out[q.expect] = (out[q.expect] ?? 0) + q.weight / total;
  return out;
}
