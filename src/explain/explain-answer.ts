/**
 * explain/explain-answer: which answer a client gets and why, by running the server's own path —
 * a real query packet through decode, answer and encode against a ServingState — so the
 * explanation can never drift from what the server does; the wire codec reads the response back,
 * each record presented by its record type.
 * `meridian explain` runs it against zones it loads and probes itself; the admin endpoint's
 * /explain runs it against the running server's live state.
 */
import { isIP } from 'node:net';
import { answerQuery, MAX_CNAME_CHAIN, type ClientAddress, type ServingState } from '../answer/index.js';
import type { ZoneSigner } from '../dnssec/index.js';
import { wildcardFor } from '../authority/index.js';
import { UNKNOWN_LOCATION, type ClientLocation, type GeoLocatorHandle } from '../geo/index.js';
import { probeTypeNamed, type HealthSnapshot, type HealthView } from '../health/index.js';
import { presentRData } from '../records/index.js';
import type { DegradedReason, RoutingDecision } from '../routing/index.js';
import { addressBits, canonicalAddress, decodeMessage, decodeQuery, encodeQuery, encodeResponse, formatRecord, rcodeName, rrTypeCode, RRType, TCP_MESSAGE_LIMIT, type DecodedRecord } from '../wire/index.js';
import { type CompiledNode, type CompiledZone, type RoutedName, type ServedPool, type ZoneCatalog } from '../zones/index.js';
import { MemberViews } from './member-view.js';

/** A question as an operator types it: `www.example.test`, `AAAA`, `81.2.69.0/24`. */
export interface ExplainRequest {
  readonly name: string;
  /** A record type name; A when omitted. */
  readonly type?: string;
  /** An IP address (the query's source) or a subnet (sent as EDNS Client Subnet). */
  readonly from: string;
}

/** What the explanation runs against: the state the answer is computed from. */
export interface ExplainContext {
  readonly serving: ServingState;
  /** Probe results per target, for each member's last probe. */
  readonly snapshot: HealthSnapshot;
  /** The geo handle (for the database list); null when geo is off. */
  readonly geo: GeoLocatorHandle | null;
  /** A fleet instance: each instance's view of a probe target (the fleet's verdict is what `status` shows). */
  readonly fleetViews?: ((probeKey: string) => readonly FleetView[]) | undefined;
}

/** One fleet instance's view of a member's probe target. */
export interface FleetView {
  readonly instance: string;
  readonly status: 'up' | 'down';
  readonly fresh: boolean;
  readonly reason: string | null;
}

/** A question that cannot be asked (bad name, type or address): the message says which part. */
export class ExplainInputError extends Error {}

export interface ExplainClient {
  readonly address: string;
  readonly family: 4 | 6;
  /** Set when `from` was a subnet: it is sent as EDNS Client Subnet. */
  readonly sourcePrefix: number | null;
}

export interface MemberReport {
  /** The answered address, or a name member's probe address (its target when it has none). */
  address: string;
  family: 4 | 6 | null;
  /** A name member's CNAME target (no final dot); null for an address. */
  cname: string | null;
  weight: number;
  enabled: boolean;
  status: string;
  probe: string | null;
  lastResult: string | null;
  latencyMs: number | null;
  /** In a fleet: each instance's view (this instance first). */
  views?: readonly FleetView[];
}

export interface PoolReport {
  name: string;
  check: string | null;
  members: MemberReport[];
}

/** A name the zone does not hold, answered from a wildcard (RFC 4592). */
export interface WildcardMatch {
  name: string;
  wildcard: string;
}

/** The explanation as data (`meridian explain --json`, the admin /explain endpoint). */
export interface ExplainReport {
  query: { name: string; type: string };
  client: { address: string; family: 4 | 6; ecsSourcePrefix: number | null; location: ClientLocation; databases: string[] };
  /** False when no loaded zone contains the name (REFUSED). */
  inZone: boolean;
  decision: RoutingDecision | null;
  /** The names of the answer (the asked one, then CNAME targets) that a wildcard answered. */
  wildcards: WildcardMatch[];
  pools: PoolReport[];
  /** The name a pool of names answered with (its CNAME's target, no final dot), or null. */
  chosen: string | null;
  /** Which TTL the routed answer carries and why; null for static answers and empty ones. */
  ttl: { seconds: number; degraded: boolean; why: string } | null;
  answer: { rcode: string; ecsScope: number; records: string[] };
  /** Present when the zone is signed (--keys): the keys signing it and until when its RRSIGs hold. */
  dnssec?: { keyTags: number[]; algorithms: string[]; signatureExpiration: string };
}

/** `--from` text → the client: an address, or a subnet with its host bits zeroed. */
export function parseExplainClient(text: string): ExplainClient {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  if ((family !== 4 && family !== 6) || extra !== undefined) throw new ExplainInputError(`--from ${text}: expected an IP address or a subnet (192.0.2.0/24)`);
  if (prefixText === undefined) return { address: canonicalAddress(address, family), family, sourcePrefix: null };
  const prefix = Number(prefixText);
  const width = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefixText) || prefix > width) throw new ExplainInputError(`--from ${text}: prefix must be 0 to ${width}`);
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
function buildQueryPacket(name: string, type: number, client: ExplainClient): Buffer {
  const clientSubnet = client.sourcePrefix === null ? undefined : `${client.address}/${client.sourcePrefix}`;
  return encodeQuery({ id: 0x4d52, name, type, edns: { udpSize: 4096, clientSubnet } });
}

/** The name as asked, lower-cased and without its trailing dot. */
export function explainName(text: string): string {
  return text.toLowerCase().replace(/\.$/, '');
}

/**
 * The node whose pools decide the answer: the name's own, or the routed name at the end of its
 * in-zone CNAME chain, followed as answerQuery does (a CNAME question stops at the CNAME; a chain
 * longer than answerQuery follows is cut where it cuts it).
 */
export function routedNodeOf(catalog: ZoneCatalog, lowerName: string, type: number): { zone: CompiledZone | undefined; node: CompiledNode | undefined; wildcards: WildcardMatch[] } {
  const zone = catalog.findZone(lowerName);
  const wildcards: WildcardMatch[] = [];
  // A name the zone does not hold is answered from the wildcard at its closest encloser, as the authority answers it.
  const nodeAt = (name: string): CompiledNode | undefined => {
    if (zone === undefined) return undefined;
    const node = zone.nodes.get(name);
    if (node !== undefined) return node;
    const wildcard = wildcardFor(zone, name);
    if (wildcard !== null) wildcards.push({ name, wildcard: wildcard.name });
    return wildcard ?? undefined;
  };
  let node = nodeAt(lowerName);
  for (let hops = 0; node?.cname && type !== RRType.CNAME && hops < MAX_CNAME_CHAIN; hops++) {
    const target = node.cname.target;
    node = catalog.findZone(target) === zone ? nodeAt(target) : undefined;
  }
  return { zone, node, wildcards };
}

/** The record type code of a type name, or an ExplainInputError. */
export function explainType(text: string): number {
  const type = rrTypeCode(text);
  if (type === undefined) throw new ExplainInputError(`unknown record type ${text}`);
  return type;
}

/** Runs the question through decode → answer → encode against `context` and says why. */
export function explainAnswer(request: ExplainRequest, context: ExplainContext): ExplainReport {
  const name = explainName(request.name);
  if (name === '' || name.length > 253) throw new ExplainInputError(`"${request.name}" is not a domain name`);
  const typeName = (request.type ?? 'A').toUpperCase();
  const type = explainType(typeName);
  const client = parseExplainClient(request.from);
  let packet: Buffer;
  try {
    packet = buildQueryPacket(name, type, client);
  } catch (error) {
    throw new ExplainInputError(`"${request.name}" is not a domain name: ${error instanceof Error ? error.message : String(error)}`);
  }
  const decoded = decodeQuery(packet, 'udp');
  if (decoded.kind !== 'query') throw new ExplainInputError(`"${request.name}" cannot be asked as a DNS question`);
  const { serving } = context;
  const clientAddress: ClientAddress = { address: client.address, family: client.family };
  const answer = answerQuery(decoded.query, clientAddress, serving);
  const response = decodeMessage(encodeResponse(decoded.query, answer, TCP_MESSAGE_LIMIT, { nsid: null }), presentRData);
  const location = serving.geo?.locate(client.address, client.family) ?? UNKNOWN_LOCATION;
  const { zone, node, wildcards } = routedNodeOf(serving.catalog, name, type);
  return {
    query: { name, type: typeName },
    client: {
      address: client.address,
      family: client.family,
      ecsSourcePrefix: client.sourcePrefix,
      location,
      databases: context.geo?.describe().map((d) => `${d.file} (${d.schema})`) ?? [],
    },
    inZone: zone !== undefined,
    decision: answer.decision,
    wildcards,
    pools: node?.routed ? poolStates(node.routed.poolsByName, context.snapshot, serving.health, context.fleetViews) : [],
    chosen: answer.decision?.names && node ? chosenName(response.answer, node.name) : null,
    ttl: node?.routed && answer.decision && response.answer.length > 0 ? ttlReport(node.routed, answer.decision) : null,
    answer: { rcode: rcodeName(answer.rcode), ecsScope: client.sourcePrefix === 0 ? 0 : answer.ecsScope, records: response.answer.map(formatRecord) },
    ...dnssecReport(zone === undefined ? null : (serving.signing?.signerOf(zone.origin) ?? null)),
  };
}

/** The signer's keys and window as `explain` shows them; nothing for an unsigned zone. */
function dnssecReport(signer: ZoneSigner | null): Pick<ExplainReport, 'dnssec'> {
  if (signer === null) return {};
  const keys = [...new Set([...signer.keys.keySigning, ...signer.keys.zoneSigning])];
  return {
    dnssec: {
      keyTags: keys.map((key) => key.tag),
      algorithms: [...new Set(keys.map((key) => key.algorithm.mnemonic))],
      signatureExpiration: new Date(signer.window.expiration * 1000).toISOString(),
    },
  };
}

function poolStates(pools: ReadonlyMap<string, ServedPool>, snapshot: HealthSnapshot, health: HealthView, fleetViews?: (probeKey: string) => readonly FleetView[]): PoolReport[] {
  const views = new MemberViews(health, snapshot);
  return [...pools.values()].map((pool) => ({
    name: pool.name,
    check: pool.check?.name ?? null,
    members: views.of(pool).map(({ member, status, target }) => ({
      address: member.address,
      family: member.family,
      cname: member.cname,
      weight: member.weight,
      enabled: member.enabled,
      status,
      probe: member.probeKey && pool.check ? probeTypeNamed(pool.check.type).describe(member.probeAddress, pool.check) : null,
      lastResult: target?.lastResult == null ? null : target.lastResult === 'ok' ? 'ok' : target.reason ?? 'failed',
      latencyMs: target?.latencyMs ?? null,
      ...(fleetViews !== undefined && member.probeKey ? { views: fleetViews(member.probeKey).map(({ instance, status, fresh, reason }) => ({ instance, status, fresh, reason })) } : {}),
    })),
  }));
}

/** The target of the CNAME a routed name answered with, read from the answer as sent. */
function chosenName(records: readonly DecodedRecord[], owner: string): string | null {
  const cname = records.find((record) => record.typeCode === RRType.CNAME && record.name.toLowerCase() === `${owner}.`);
  return cname === undefined ? null : cname.data.toLowerCase().replace(/\.$/, '');
}

const DEGRADED_BECAUSE: Record<DegradedReason, string> = {
  'later-pool': 'a pool after the first answered',
  'fail-open': 'every pool is down and the first answered anyway (fail-open)',
  'members-withdrawn': 'the first pool answered with some members down or drained',
};

/** Which TTL a routed answer carries, and why (the health-aware TTL). */
function ttlReport(routed: RoutedName, decision: RoutingDecision): ExplainReport['ttl'] {
  if (decision.ttl === null) return null;
  if (decision.degraded === null) {
    return { seconds: decision.ttl, degraded: false, why: `the name's ttl: the first pool answered with every member up` };
  }
  const source = routed.degradedTtlSource;
  const from =
    source.kind === 'set'
      ? `degraded_ttl ${routed.degradedTtl}`
      : source.kind === 'check'
        ? `by default min(ttl ${routed.ttl}, interval × rise of pool ${source.pool}'s check ${source.check}: ${source.intervalMs / 1000} s × ${source.rise})`
        : `by default the ttl, as no first pool has a check`;
  return { seconds: decision.ttl, degraded: true, why: `degraded, as ${DEGRADED_BECAUSE[decision.degraded]}; ${from}` };
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

/** The explanation as `meridian explain` prints it. */
export function formatExplainReport(report: ExplainReport): string {
  const lines: string[] = [];
  const c = report.client;
  const from = c.ecsSourcePrefix === null ? `${c.address} (source address)` : `${c.address}/${c.ecsSourcePrefix} (EDNS Client Subnet)`;
  lines.push(`query:    ${report.query.name} ${report.query.type} from ${from}`);
  const prefixes = [`location /${c.location.locationPrefixLength}`];
  if (c.location.asn !== undefined || c.location.asnPrefixLength > 0) prefixes.push(`ASN /${c.location.asnPrefixLength}`);
  lines.push(`client:   ${describeLocation(c.location)}  [database networks: ${prefixes.join(', ')}]`);
  if (!report.inZone) lines.push('zone:     none of the loaded zones contains this name (REFUSED)');
  for (const match of report.wildcards) lines.push(`wildcard: ${match.name} is answered from ${match.wildcard} (no such name; RFC 4592)`);
  const d = report.decision;
  if (d) {
    const rule = d.rule === 'pool' || d.rule === 'failover' ? d.rule : `geo ${d.rule}${d.ruleKey ? ` ${d.ruleKey}` : ''}`;
    lines.push(`rule:     ${rule} → [${d.pools.join(', ')}]`);
    lines.push('pools:');
    for (const poolName of d.pools) {
      const pool = report.pools.find((p) => p.name === poolName);
      if (!pool) continue;
      const marker = poolName === d.pool ? '→' : ' ';
      const holds = pool.members.some((m) => m.cname !== null) ? ', names: one CNAME drawn by weight' : '';
      lines.push(`  ${marker} ${pool.name}${pool.check ? ` (check ${pool.check}${holds})` : ` (no check: always up${holds})`}`);
      for (const m of pool.members) {
        const probe = m.lastResult === null ? '' : `  last probe: ${m.lastResult}${m.latencyMs !== null ? ` in ${m.latencyMs.toFixed(1)} ms` : ''}`;
        const who = m.cname === null ? m.address : `${m.cname}.`;
        const name = m.cname === null ? '' : `  weight ${m.weight}${m.address === m.cname ? '' : `, probed at ${m.address}`}`;
        lines.push(`      ${who.padEnd(22)} ${m.status.padEnd(8)}${name}${probe}`);
        if (m.views?.length) {
          const views = m.views.map((v) => `${v.instance} ${v.status}${v.fresh ? '' : ' (stale)'}`).join(', ');
          lines.push(`      ${''.padEnd(22)} fleet views: ${views}`);
        }
      }
    }
    lines.push(`outcome:  ${d.outcome}${d.pool ? ` (pool ${d.pool})` : ''}`);
    if (report.chosen !== null) lines.push(`chosen:   ${report.chosen}. (drawn by weight among the pool's ${d.outcome === 'fail-open' ? 'enabled' : 'healthy'} names)`);
    if (report.ttl) lines.push(`ttl:      ${report.ttl.seconds}, ${report.ttl.why}`);
  } else if (report.inZone) lines.push('rule:     static records (the answer does not depend on the client)');
  lines.push(`answer:   ${report.answer.rcode}, ECS scope /${report.answer.ecsScope}`);
  for (const record of report.answer.records) lines.push(`  ${record}`);
  if (report.dnssec) lines.push(`dnssec:   signed by key ${report.dnssec.keyTags.join(', ')} (${report.dnssec.algorithms.join(', ')}), RRSIGs valid until ${report.dnssec.signatureExpiration}: DO=1 answers carry them`);
  return `${lines.join('\n')}\n`;
}
