/**
 * Issue 3, "Geo rules": real queries against a server with the generated City (+ ASN), Country
 * and flat databases. Every rule kind is chosen with ECS for IPv4 and IPv6 subnets, the
 * precedence between kinds holds, `nearest` orders pools by distance (country centroids where
 * the database has no coordinates), and without ECS the source address decides.
 * The returned ECS scope is checked for every case: the prefix of the database network (or
 * network rule) that decided, raised where a more specific network rule falls inside it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildQuery, frame, parseResponse, type Address, type ParsedResponse } from '../support/dns-client.js';
import { buildGeoFixtures, GEO_FIXTURE_NETWORKS, type GeoFixturePaths } from '../support/geo-fixtures.js';
import { ask, cityRecord, geoZone, poolA, poolAAAA, poolOf, type PoolName } from '../support/geo-zone.js';
import { writeMmdb } from '../support/mmdb-writer.js';
import { startTestServer, type TestServer } from '../support/start-test-server.js';

async function fixtures(t: TestContext): Promise<GeoFixturePaths> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return buildGeoFixtures(dir);
}

async function geoServer(t: TestContext, geoipFiles: string[]): Promise<TestServer> {
  const server = await startTestServer({ zones: { 'example.test.yaml': geoZone() }, geoipFiles, healthDisabled: true });
  t.after(() => server.close());
  return server;
}

/** [name, ECS subnet, expected pool, expected ECS scope, why]. */
type Case = readonly [name: string, subnet: string, pool: PoolName, scope: number, why: string];

/** Asks each case as A and as AAAA (the family asked does not change the choice) and checks pool and scope. */
async function checkCases(t: TestContext, server: TestServer, cases: readonly Case[]): Promise<void> {
  for (const [name, subnet, pool, scope, why] of cases) {
    await t.test(`${name} from ${subnet}: ${why} → ${pool} /${scope}`, async () => {
      const source = Number(subnet.split('/')[1]);
      const family = subnet.includes(':') ? 2 : 1;
      const [a, aaaa] = await Promise.all([ask(server.v4, name, 'A', subnet), ask(server.v6, name, 'AAAA', subnet)]);
      assert.equal(a.rcode, 'NOERROR');
      assert.deepEqual(a.addresses, [poolA(pool)], `A answer of ${name} for ${subnet}`);
      assert.deepEqual(aaaa.addresses, [poolAAAA(pool)], `AAAA answer of ${name} for ${subnet}`);
      for (const answer of [a, aaaa]) {
        assert.ok(answer.ecs, 'the ECS option is echoed');
        assert.equal(answer.ecs.family, family);
        assert.equal(answer.ecs.source, source, 'SOURCE PREFIX-LENGTH echoed unchanged');
        assert.equal(answer.ecs.scope, scope, `SCOPE PREFIX-LENGTH for ${subnet}`);
        assert.equal(answer.response.flags.aa, true);
      }
    });
  }
}

test('City + ASN databases: every rule kind with ECS, IPv4 and IPv6, with the scope of the network that decided', async (t) => {
  const paths = await fixtures(t);
  const server = await geoServer(t, [paths.city, paths.asn]);
  await checkCases(t, server, [
    // network: the CIDR override; scope is the rule's prefix.
    ['www', '198.51.100.128/25', 'office', 25, 'network rule 198.51.100.128/25'],
    ['www', '198.51.100.200/32', 'office', 25, 'one address inside the network rule'],
    ['www', '2001:db8:de:1::/64', 'office', 64, 'network rule 2001:db8:de:1::/64'],
    // asn: needs the ASN database next to the City one; scope is the ASN network's prefix.
    ['www', '90.0.0.0/16', 'orange', 16, 'AS3215 (asn beats country FR)'],
    ['isp', '81.2.69.0/24', 'aaisp', 16, 'AS20712 of 81.2.0.0/16 (asn beats country GB)'],
    ['isp', '2a02:db8:1::/48', 'aaisp', 48, 'AS20712 of 2a02:db8:1::/48'],
    ['isp', '90.0.0.0/16', 'paris', 16, 'AS3215 has no rule here: country FR'],
    // subdivision: US-CA beats country US. The /24 is split by the /25 network rule inside it.
    ['www', '198.51.100.0/25', 'california', 25, 'subdivision US-CA, /24 raised by the nested network rule'],
    ['www', '2001:db8:ca::/48', 'california', 48, 'subdivision US-CA'],
    // country: GB's /24 holds a nested IE /25, so GB answers are /25.
    ['www', '81.2.69.0/24', 'london', 25, 'country GB (database network /25)'],
    ['www', '133.1.0.0/16', 'tokyo', 12, 'country JP of 133.0.0.0/12'],
    ['www', '2a02:db8:1::/48', 'london', 48, 'country GB (AS20712 has no rule here)'],
    ['www', '2a01:db8::/32', 'paris', 32, 'country FR, no AS in the ASN database'],
    ['www', '2400:db8::/32', 'tokyo', 32, 'country JP'],
    // continent: countries without a rule of their own.
    ['www', '81.2.69.128/25', 'frankfurt', 25, 'IE → continent EU'],
    ['www', '203.0.113.0/24', 'frankfurt', 24, 'DE → continent EU'],
    ['www', '100.64.0.0/10', 'saopaulo', 10, 'BR → continent SA'],
    ['www', '2001:db8:de::/48', 'frankfurt', 64, 'DE → continent EU, /48 raised by the nested /64 network rule'],
    // default: addresses in no database network; scope is the empty branch's prefix.
    ['www', '10.1.2.0/24', 'fallback', 2, 'a miss (empty branch 0.0.0.0/2)'],
    ['www', '2c0f:db8::/32', 'fallback', 6, 'a miss (empty branch 2c00::/6)'],
    // nearest: ordered by great-circle distance from the database's coordinates.
    ['near', '90.0.0.0/16', 'paris', 16, 'FR (Paris) is nearest the paris pool'],
    ['near', '2a01:db8::/32', 'paris', 32, 'FR (Paris) over IPv6'],
    ['near', '81.2.69.0/25', 'paris', 25, 'GB (London): paris 340 km, frankfurt 640 km'],
    ['near', '203.0.113.0/24', 'frankfurt', 24, 'DE (Berlin): frankfurt 420 km, paris 880 km'],
    ['near', '2001:db8:de::/48', 'frankfurt', 48, 'DE (Berlin) over IPv6'],
    ['near', '198.51.100.0/24', 'oregon', 24, 'US-CA (San Francisco): oregon, not virginia'],
    ['near', '100.64.0.0/10', 'saopaulo', 10, 'BR, a City record without location: the BR centroid'],
    ['near', '133.0.0.0/12', 'tokyo', 12, 'JP: the country rule beats nearest'],
    ['near', '10.0.0.0/8', 'fallback', 2, 'a miss has no coordinates: default'],
  ]);
});

test('precedence: network > asn > subdivision > country > continent > nearest > default', async (t) => {
  const paths = await fixtures(t);
  const server = await geoServer(t, [paths.city, paths.asn]);
  const poolFor = async (name: string, subnet: string): Promise<PoolName | undefined> => (await ask(server.v4, name, 'A', subnet)).pool;
  // 198.51.100.200 is in the network rule, in US-CA and in US.
  assert.equal(await poolFor('www', '198.51.100.200/32'), 'office', 'network beats subdivision and country');
  // Its neighbour outside the /25 falls through to the subdivision, which beats country US.
  assert.equal(await poolFor('www', '198.51.100.7/32'), 'california', 'subdivision beats country');
  // 90.0.12.34 is AS3215 and FR: www has a rule for AS3215, isp does not.
  assert.equal(await poolFor('www', '90.0.12.34/32'), 'orange', 'asn beats country');
  assert.equal(await poolFor('isp', '90.0.12.34/32'), 'paris', 'no asn rule for AS3215: country FR');
  // 81.2.69.10 is AS20712, GB and EU.
  assert.equal(await poolFor('isp', '81.2.69.10/32'), 'aaisp', 'asn beats country');
  assert.equal(await poolFor('www', '81.2.69.10/32'), 'london', 'country beats continent');
  // 81.2.69.200 is IE, which has no country rule: the continent.
  assert.equal(await poolFor('www', '81.2.69.200/32'), 'frankfurt', 'continent when no country rule');
  // JP has a country rule in `near`: it beats nearest; FR has none: nearest.
  assert.equal(await poolFor('near', '133.1.2.3/32'), 'tokyo', 'country beats nearest');
  assert.equal(await poolFor('near', '90.0.12.34/32'), 'paris', 'nearest when no rule above matches');
  // Every fixture address answers, and each one's answer is one of the zone's pools.
  for (const network of GEO_FIXTURE_NETWORKS) {
    const result = await ask(server.v4, 'www', 'A', `${network.probe}/${network.probe.includes(':') ? 128 : 32}`);
    assert.ok(result.pool, `${network.probe} gets a pool`);
  }
});

test('without ECS the source address decides: 127.0.0.1 and ::1 are misses (default) unless a network rule names them', async (t) => {
  const paths = await fixtures(t);
  const server = await geoServer(t, [paths.city, paths.asn]);
  for (const listener of [server.v4, server.v6]) {
    const www = await ask(listener, 'www', 'A');
    assert.deepEqual(www.addresses, [poolA('fallback')], `www from ${listener.host}`);
    assert.equal(www.ecs, undefined, 'no ECS in the query, none in the answer');
    assert.notEqual(www.response.opt, null, 'the answer still carries an OPT');
    const www6 = await ask(listener, 'www', 'AAAA');
    assert.deepEqual(www6.addresses, [poolAAAA('fallback')]);
    // `lo` routes 127.0.0.0/8 and ::1/128 to the office: the source address is what it sees.
    const lo = await ask(listener, 'lo', 'A');
    assert.deepEqual(lo.addresses, [poolA('office')], `lo from ${listener.host}`);
  }
  // The same name with ECS follows the subnet instead of the source address.
  const lo = await ask(server.v4, 'lo', 'A', '90.0.0.0/16');
  assert.deepEqual(lo.addresses, [poolA('fallback')]);
  // 64.0.0.0/3 is the widest subnet holding 90.0.0.0/16 but not 127.0.0.0/8.
  assert.equal(lo.ecs?.scope, 3);
});

test('Country database: no subdivisions, no coordinates (country centroids for nearest), no ASN', async (t) => {
  const paths = await fixtures(t);
  const server = await geoServer(t, [paths.country]);
  await checkCases(t, server, [
    ['www', '198.51.100.0/25', 'virginia', 25, 'no subdivision in a Country database: country US'],
    ['www', '2001:db8:ca::/48', 'virginia', 48, 'country US over IPv6'],
    ['www', '90.0.0.0/16', 'paris', 16, 'no ASN database: country FR'],
    ['www', '81.2.69.0/24', 'london', 25, 'country GB (nested IE /25)'],
    ['www', '81.2.69.128/25', 'frankfurt', 25, 'IE → continent EU'],
    ['www', '198.51.100.128/25', 'office', 25, 'network rules need no database'],
    ['www', '10.1.2.0/24', 'fallback', 2, 'a miss'],
    // The US centroid (37.09, -95.71) is nearer Virginia; the City database's San Francisco was nearer Oregon.
    ['near', '198.51.100.0/24', 'virginia', 24, 'US centroid is nearest virginia'],
    ['near', '2001:db8:ca::/48', 'virginia', 48, 'US centroid over IPv6'],
    ['near', '90.0.0.0/16', 'paris', 16, 'FR centroid is nearest paris'],
    ['near', '203.0.113.0/24', 'frankfurt', 24, 'DE centroid is nearest frankfurt'],
    ['near', '100.64.0.0/10', 'saopaulo', 10, 'BR centroid is nearest saopaulo'],
  ]);
});

test('flat country_code database (ip-location-db schema): continent rules work through the country → continent table', async (t) => {
  const paths = await fixtures(t);
  const server = await geoServer(t, [paths.flat]);
  await checkCases(t, server, [
    ['www', '203.0.113.0/24', 'frankfurt', 24, 'DE → EU from the table'],
    ['www', '2001:db8:de::/48', 'frankfurt', 64, 'DE → EU over IPv6 (nested /64 network rule)'],
    ['www', '81.2.69.128/25', 'frankfurt', 25, 'IE → EU from the table'],
    ['www', '100.64.0.0/10', 'saopaulo', 10, 'BR → SA from the table'],
    ['www', '81.2.69.0/24', 'london', 25, 'country GB'],
    ['www', '2400:db8::/32', 'tokyo', 32, 'country JP'],
    ['www', '198.51.100.0/25', 'virginia', 25, 'no subdivisions in the flat schema: country US'],
    ['www', '2c0f:db8::/32', 'fallback', 6, 'a miss'],
    ['near', '198.51.100.0/24', 'virginia', 24, 'US centroid'],
    ['near', '90.0.0.0/16', 'paris', 16, 'FR centroid'],
  ]);
});

/** One query without ECS from a chosen loopback source address, over UDP or TCP. */
function askFrom(server: Address, source: string, name: string, type: string, tcp: boolean): Promise<ParsedResponse> {
  const message = buildQuery({ name: `${name}.example.test`, type, edns: {} });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no reply to ${name} from ${source} within 2 s`));
    }, 2000);
    let cleanup = (): void => undefined;
    const done = (reply: Buffer): void => {
      clearTimeout(timer);
      cleanup();
      resolve(parseResponse(reply));
    };
    if (!tcp) {
      const socket = createSocket(source.includes(':') ? 'udp6' : 'udp4');
      cleanup = () => socket.close();
      socket.on('error', (error) => {
        clearTimeout(timer);
        cleanup();
        reject(error);
      });
      socket.on('message', (reply) => done(reply));
      socket.bind(0, source, () => socket.send(message, server.port, server.host));
    } else {
      const socket = connect({ host: server.host, port: server.port, localAddress: source });
      cleanup = () => socket.destroy();
      let buffered = Buffer.alloc(0);
      socket.on('error', (error) => {
        clearTimeout(timer);
        cleanup();
        reject(error);
      });
      socket.on('connect', () => socket.write(frame(message)));
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) done(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      });
    }
  });
}

test('without ECS the source address is located: loopback sources placed by a custom database pick each rule kind (UDP and TCP)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Databases that place loopback sources: 127.0.N.0/24 in different countries, ::1 in Japan.
  const city = join(dir, 'loopback-city.mmdb');
  const asn = join(dir, 'loopback-asn.mmdb');
  const place = (cidr: string, country: string, continent: string, subdivisions: string[], location?: { lat: number; lon: number }) => ({
    cidr,
    data: cityRecord({ country, continent, subdivisions, location }),
  });
  await writeFile(
    city,
    writeMmdb({
      databaseType: 'GeoIP2-City',
      languages: ['en'],
      buildEpoch: 1_750_000_000,
      networks: [
        place('127.0.0.0/24', 'GB', 'EU', ['ENG'], { lat: 51.5142, lon: -0.0931 }),
        place('127.0.1.0/24', 'US', 'NA', ['CA'], { lat: 37.7749, lon: -122.4194 }),
        place('127.0.2.0/24', 'DE', 'EU', ['BE'], { lat: 52.52, lon: 13.405 }),
        place('127.0.3.0/24', 'FR', 'EU', ['IDF'], { lat: 48.8582, lon: 2.3387 }),
        place('127.0.4.0/24', 'BR', 'SA', []),
        place('::1/128', 'JP', 'AS', ['13'], { lat: 35.6895, lon: 139.6917 }),
      ],
    }),
  );
  await writeFile(
    asn,
    writeMmdb({
      databaseType: 'GeoLite2-ASN',
      languages: ['en'],
      buildEpoch: 1_750_000_000,
      networks: [{ cidr: '127.0.3.0/24', data: { autonomous_system_number: 3215, autonomous_system_organization: 'Orange S.A.' } }],
    }),
  );
  const server = await geoServer(t, [city, asn]);

  const cases: Array<[listener: Address, source: string, name: string, pool: PoolName, why: string]> = [
    [server.v4, '127.0.0.1', 'www', 'london', 'country GB'],
    [server.v4, '127.0.1.1', 'www', 'california', 'subdivision US-CA'],
    [server.v4, '127.0.2.1', 'www', 'frankfurt', 'DE → continent EU'],
    [server.v4, '127.0.3.1', 'www', 'orange', 'AS3215 beats country FR'],
    [server.v4, '127.0.4.1', 'www', 'saopaulo', 'BR → continent SA'],
    [server.v4, '127.0.5.1', 'www', 'fallback', 'a miss'],
    [server.v6, '::1', 'www', 'tokyo', 'country JP over IPv6'],
    [server.v4, '127.0.0.1', 'near', 'paris', 'nearest from London'],
    [server.v4, '127.0.1.1', 'near', 'oregon', 'nearest from San Francisco'],
    [server.v4, '127.0.4.1', 'near', 'saopaulo', 'nearest from the BR centroid'],
    [server.v4, '127.0.2.1', 'lo', 'office', 'network rule 127.0.0.0/8'],
  ];
  for (const [listener, source, name, pool, why] of cases) {
    for (const tcp of [false, true]) {
      for (const type of ['A', 'AAAA']) {
        const response = await askFrom(listener, source, name, type, tcp);
        const addresses = response.answer.map((r) => r.data);
        assert.deepEqual(addresses.map(poolOf), [pool], `${name} ${type} from ${source} (${why}) over ${tcp ? 'TCP' : 'UDP'}`);
        assert.equal(response.opt?.ecs, undefined, 'no ECS asked, none echoed');
      }
    }
  }
  // With ECS, the subnet decides instead of the (GB) source address.
  const viaEcs = await ask(server.v4, 'www', 'A', '127.0.1.0/24');
  assert.deepEqual(viaEcs.addresses, [poolA('california')]);
  assert.equal(viaEcs.ecs?.scope, 24);
});
