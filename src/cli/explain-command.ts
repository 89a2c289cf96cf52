/**
 * `meridian explain NAME [TYPE] --from IP|SUBNET`: which answer a client gets and why. It runs
 * the server's own path — a real query packet through decode, answer and encode — so the
 * explanation can never drift from what the server does; the wire codec reads the response back,
 * each record presented by its record type.
 */
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { answerQuery, type ClientAddress, type ServingState } from '../answer/index.js';
import { servingState } from '../authority/index.js';
import { embeddedGeoDatabasePath, openGeoLocator, isKnownCountryCode, type ClientLocation, type GeoLocatorHandle } from '../geo/index.js';
import { HealthMonitor, type HealthSnapshot, type HealthView, probeTypeNamed } from '../health/index.js';
import { presentRData } from '../records/index.js';
import { mathRandom, type RoutingDecision } from '../routing/index.js';
import { silentLogger } from '../telemetry/logger.js';
import { decodeMessage, decodeQuery, encodeQuery, encodeResponse, formatRecord, rcodeName, rrTypeCode, RRType, TCP_MESSAGE_LIMIT } from '../wire/index.js';
import { compileZones, formatDiagnostic, readZonePath, SerialKeeper, ZoneCatalog, addressBits, canonicalAddress } from '../zones/index.js';
import { probeKeyOf } from '../health/index.js';

/** The longest in-zone CNAME chain followed, as in answerQuery. */
const MAX_CNAME_CHAIN = 8;

interface ParsedClient {
  address: string;
  family: 4 | 6;
  /** Set when --from was a subnet: it is sent as EDNS Client Subnet. */
  sourcePrefix: number | null;
}

function parseFrom(text: string): ParsedClient {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || extra !== undefined) throw new Error(`--from ${text}: expected an IP address or a subnet (192.0.2.0/24)`);
  if (prefixText === undefined) return { address: canonicalAddress(address, family), family, sourcePrefix: null };
  const prefix = Number(prefixText);
  const width = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefixText) || prefix > width) throw new Error(`--from ${text}: prefix must be 0 to ${width}`);
  // Zero the host bits, as a resolver does before sending ECS (RFC 7871 §6).
  const bits = addressBits(address, family) & (((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix));
  return { address: bitsToText(bits, family), family, sourcePrefix: prefix };
}

function bitsToText(bits: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((bits >> shift) & 0xffffn).toString(16));
  return canonicalAddress(groups.join(':'), 6);
}

/** A query as a resolver would send it: EDNS0, with ECS when explaining a subnet. */
function buildQueryPacket(name: string, type: number, client: ParsedClient): Buffer {
  const clientSubnet = client.sourcePrefix === null ? undefined : `${client.address}/${client.sourcePrefix}`;
  return encodeQuery({ id: 0x4d52, name, type, edns: { udpSize: 4096, clientSubnet } });
}

function describeLocation(location: ClientLocation): string {
  const parts: string[] = [];
  if (location.country) parts.push(`country ${location.country}`);
  if (location.subdivisions?.length) parts.push(`subdivision ${location.subdivisions.join(', ')}`);
  if (location.continent) parts.push(`continent ${location.continent}`);
  if (location.asn !== undefined) parts.push(`AS${location.asn}`);
  if (location.coordinates) parts.push(`at ${location.coordinates.lat.toFixed(2)},${location.coordinates.lon.toFixed(2)}`);
  return parts.length ? parts.join(', ') : 'unknown to the database';
}

export async function runExplain(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      zones: { type: 'string', default: 'zones' },
      geoip: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      'no-health': { type: 'boolean', default: false },
    },
  });
  const [rawName, rawType = 'A'] = positionals;
  if (rawName === undefined || values.from === undefined || positionals.length > 2) {
    process.stderr.write('usage: meridian explain NAME [TYPE] --from IP|SUBNET [--zones DIR] [--geoip FILE] [--json] [--no-health]\n');
    return 2;
  }
  const name = rawName.toLowerCase().replace(/\.$/, '');
  const type = rrTypeCode(rawType);
  if (type === undefined) {
    process.stderr.write(`meridian: unknown record type ${rawType}\n`);
    return 2;
  }
  let client;
  try {
    client = parseFrom(values.from);
  } catch (error) {
    process.stderr.write(`meridian: ${(error as Error).message}\n`);
    return 2;
  }

  const loads = await readZonePath(values.zones!, { isKnownCountry: isKnownCountryCode });
  for (const load of loads) if (!load.ok) for (const d of load.diagnostics) process.stderr.write(`meridian: ${formatDiagnostic(d)} (file skipped)\n`);
  const catalog = new ZoneCatalog(compileZones(loads.flatMap((l) => (l.ok ? [l.source] : [])), new SerialKeeper(), probeKeyOf));
  const geoFiles = values.geoip?.length ? values.geoip : [embeddedGeoDatabasePath()];
  const geo: GeoLocatorHandle = await openGeoLocator(geoFiles, { logger: silentLogger(), watch: false });
  const monitor = new HealthMonitor({ logger: silentLogger() });
  try {
    // One probe round for the members this name can use, as the server runs before answering.
    const zone = catalog.findZone(name);
    // Follow in-zone CNAMEs as answerQuery does, so the routed name at the end of the chain is
    // the one probed and reported (else its members would count as up without a probe).
    let node = zone?.nodes.get(name);
    for (let hops = 0; node?.cname && type !== RRType.CNAME && hops < MAX_CNAME_CHAIN; hops++) {
      const target = node.cname.target;
      node = catalog.findZone(target) === zone ? zone?.nodes.get(target) : undefined;
    }
    let health: HealthView = monitor;
    if (!values['no-health'] && node?.routed) {
      const pools = node.routed.poolsByName;
      await monitor.setTargets(zone?.probeTargets.filter((target) => target.members.some((member) => pools.has(member.pool))) ?? []);
      await monitor.start();
    } else health = { version: 0, status: () => 'up' };

    const serving: ServingState = servingState(catalog, { health, geo, random: mathRandom });
    const decoded = decodeQuery(buildQueryPacket(name, type, client), 'udp');
    if (decoded.kind !== 'query') throw new Error('could not build the query');
    const clientAddress: ClientAddress = { address: client.address, family: client.family };
    const answer = answerQuery(decoded.query, clientAddress, serving);
    const response = decodeMessage(encodeResponse(decoded.query, answer, TCP_MESSAGE_LIMIT, { nsid: null }), presentRData);
    const location = geo.locate(client.address, client.family);
    const snapshot: HealthSnapshot = monitor.snapshot();
    const report = buildReport(name, rawType.toUpperCase(), client, location, answer.decision, answer.rcode, answer.ecsScope, response.answer.map(formatRecord), node?.routed ? poolStates(node.routed.poolsByName, snapshot, health) : [], geo);
    if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(formatReport(report, zone === undefined));
    return 0;
  } finally {
    await monitor.stop();
    await geo.close();
  }
}

interface MemberReport {
  address: string;
  family: 4 | 6;
  enabled: boolean;
  status: string;
  probe: string | null;
  lastResult: string | null;
  latencyMs: number | null;
}

interface PoolReport {
  name: string;
  check: string | null;
  members: MemberReport[];
}

function poolStates(
  pools: ReadonlyMap<string, import('../zones/index.js').ServedPool>,
  snapshot: HealthSnapshot,
  health: HealthView,
): PoolReport[] {
  const byKey = new Map(snapshot.targets.map((target) => [target.probeKey, target]));
  return [...pools.values()].map((pool) => ({
    name: pool.name,
    check: pool.check?.name ?? null,
    members: [...pool.members4, ...pool.members6].map((member) => {
      const target = member.probeKey ? byKey.get(member.probeKey) : undefined;
      return {
        address: member.address,
        family: member.family,
        enabled: member.enabled,
        status: member.enabled ? health.status(member.probeKey, member.address) : 'disabled',
        probe: member.probeKey && pool.check ? probeTypeNamed(pool.check.type).describe(member.probeAddress, pool.check) : null,
        lastResult: target?.lastResult == null ? null : target.lastResult === 'ok' ? 'ok' : target.reason ?? 'failed',
        latencyMs: target?.latencyMs ?? null,
      };
    }),
  }));
}

interface ExplainReport {
  query: { name: string; type: string };
  client: { address: string; family: 4 | 6; ecsSourcePrefix: number | null; location: ClientLocation; databases: string[] };
  decision: RoutingDecision | null;
  pools: PoolReport[];
  answer: { rcode: string; ecsScope: number; records: string[] };
}

function buildReport(
  name: string,
  type: string,
  client: ParsedClient,
  location: ClientLocation,
  decision: RoutingDecision | null,
  rcode: number,
  ecsScope: number,
  records: string[],
  pools: PoolReport[],
  geo: GeoLocatorHandle,
): ExplainReport {
  return {
    query: { name, type },
    client: {
      address: client.address,
      family: client.family,
      ecsSourcePrefix: client.sourcePrefix,
      location,
      databases: geo.describe().map((d) => `${d.file} (${d.schema})`),
    },
    decision,
    pools,
    answer: { rcode: rcodeName(rcode), ecsScope: client.sourcePrefix === 0 ? 0 : ecsScope, records },
  };
}

function formatReport(report: ExplainReport, outsideZones: boolean): string {
  const lines: string[] = [];
  const c = report.client;
  const from = c.ecsSourcePrefix === null ? `${c.address} (source address)` : `${c.address}/${c.ecsSourcePrefix} (EDNS Client Subnet)`;
  lines.push(`query:    ${report.query.name} ${report.query.type} from ${from}`);
  const prefixes = [`location /${c.location.locationPrefixLength}`];
  if (c.location.asn !== undefined || c.location.asnPrefixLength > 0) prefixes.push(`ASN /${c.location.asnPrefixLength}`);
  lines.push(`client:   ${describeLocation(c.location)}  [database networks: ${prefixes.join(', ')}]`);
  if (outsideZones) lines.push('zone:     none of the loaded zones contains this name (REFUSED)');
  const d = report.decision;
  if (d) {
    const rule = d.rule === 'pool' || d.rule === 'failover' ? d.rule : `geo ${d.rule}${d.ruleKey ? ` ${d.ruleKey}` : ''}`;
    lines.push(`rule:     ${rule} → [${d.pools.join(', ')}]`);
    lines.push('pools:');
    for (const poolName of d.pools) {
      const pool = report.pools.find((p) => p.name === poolName);
      if (!pool) continue;
      const marker = poolName === d.pool ? '→' : ' ';
      lines.push(`  ${marker} ${pool.name}${pool.check ? ` (check ${pool.check})` : ' (no check: always up)'}`);
      for (const m of pool.members) {
        const probe = m.lastResult === null ? '' : `  last probe: ${m.lastResult}${m.latencyMs !== null ? ` in ${m.latencyMs.toFixed(1)} ms` : ''}`;
        lines.push(`      ${m.address.padEnd(22)} ${m.status.padEnd(8)}${probe}`);
      }
    }
    lines.push(`outcome:  ${d.outcome}${d.pool ? ` (pool ${d.pool})` : ''}`);
  } else if (!outsideZones) lines.push('rule:     static records (the answer does not depend on the client)');
  lines.push(`answer:   ${report.answer.rcode}, ECS scope /${report.answer.ecsScope}`);
  for (const record of report.answer.records) lines.push(`  ${record}`);
  return `${lines.join('\n')}\n`;
}
