/**
 * The authoritative rules: Query × ServingState → response sections. Synchronous, no I/O:
 * REFUSED outside our zones, referrals at zone cuts, CNAME chasing inside the zone,
 * NXDOMAIN/NODATA with the SOA, ANY answered minimally (RFC 8482), routed names through
 * the routing policies.
 */
import type { ClientLocation, GeoLocator } from '../geo/index.js';
import type { HealthView } from '../health/index.js';
import { routeName, shuffled, type RandomSource, type RoutingClient, type RoutingDecision } from '../routing/index.js';
import { Rcode, RRType, type Query, type ResponseSections } from '../wire/index.js';
import { addressBits, namedRecordsOf, type CompiledNode, type CompiledZone, type ZoneCatalog } from '../zones/index.js';

/** Everything an answer depends on besides the query; each part is swapped whole when it changes. */
export interface ServingState {
  catalog: ZoneCatalog;
  health: HealthView;
  geo: GeoLocator | null;
  random: RandomSource;
}

/** The network address answers are tailored to: the ECS subnet if sent, else the source address. */
export interface ClientAddress {
  address: string;
  family: 4 | 6;
}

export interface Answer extends ResponseSections {
  zone: CompiledZone | null;
  decision: RoutingDecision | null;
}

const NONE: readonly Buffer[] = [];
/** CNAME records one answer follows, as Knot: a longer chain is cut there and the resolver goes on. */
const MAX_CNAME_CHAIN = 5;
const UNKNOWN_LOCATION: ClientLocation = { locationPrefixLength: 0, asnPrefixLength: 0 };

function refused(): Answer {
  return { rcode: Rcode.REFUSED, authoritative: false, answer: NONE, authority: NONE, additional: NONE, extraAdditional: NONE, ecsScope: 0, zone: null, decision: null };
}

function negative(zone: CompiledZone, rcode: number, answer: readonly Buffer[], decision: RoutingDecision | null, ecsScope: number): Answer {
  return { rcode, authoritative: true, answer, authority: [zone.negativeSoa], additional: NONE, extraAdditional: NONE, ecsScope, zone, decision };
}

/**
 * The child's NS in the authority section and its glue. Reached through a CNAME chain, the answer
 * carries the chain and stays authoritative (AA=1, as Knot and NSD answer): the records in it are ours.
 */
function referral(zone: CompiledZone, cut: CompiledNode, answer: readonly Buffer[]): Answer {
  const authoritative = answer.length > 0;
  return { rcode: Rcode.NOERROR, authoritative, answer, authority: namedRecordsOf(cut.delegation!), additional: cut.glue, extraAdditional: NONE, ecsScope: 0, zone, decision: null };
}

/** The closest zone cut at or above `lowerName` (below the apex), if the zone has any. */
function findCut(zone: CompiledZone, lowerName: string): CompiledNode | undefined {
  let found: CompiledNode | undefined;
  let name = lowerName;
  while (name.length > zone.origin.length) {
    const node = zone.nodes.get(name);
    if (node?.delegation) found = node; // keep going: the highest cut wins
    name = name.slice(name.indexOf('.') + 1);
  }
  return found;
}

/** The client as routing sees it; its address bits are worked out only if a network rule asks. */
class LocatedClient implements RoutingClient {
  private addressBits: bigint | undefined;
  readonly address: string;
  readonly family: 4 | 6;
  readonly location: ClientLocation;

  constructor(client: ClientAddress, geo: GeoLocator | null) {
    this.address = client.address;
    this.family = client.family;
    this.location = geo ? geo.locate(client.address, client.family) : UNKNOWN_LOCATION;
  }

  bits(): bigint {
    return (this.addressBits ??= addressBits(this.address, this.family));
  }
}

interface Collected {
  records: readonly Buffer[];
  extra: readonly Buffer[];
  decision: RoutingDecision | null;
}

/** The records of one type at a node (not CNAME handling), or null for NODATA. */
function collect(node: CompiledNode, type: number, named: boolean, client: ClientAddress, serving: ServingState): Collected | null {
  if ((type === RRType.A || type === RRType.AAAA) && node.routed !== null) {
    const result = routeName({
      routed: node.routed,
      family: type === RRType.A ? 4 : 6,
      client: node.routed.geo !== null ? new LocatedClient(client, serving.geo) : null,
      health: serving.health,
      random: serving.random,
      named,
    });
    return { records: result.records, extra: NONE, decision: result.decision };
  }
  const rrset = node.rrsets.get(type);
  if (rrset === undefined) return null;
  return { records: shuffled(named ? namedRecordsOf(rrset) : rrset.records, serving.random), extra: rrset.extra, decision: null };
}

/** Answers one decoded query. */
export function answerQuery(query: Query, client: ClientAddress, serving: ServingState): Answer {
  const zone = serving.catalog.findZone(query.lowerName);
  if (zone === undefined || query.qclass !== 1) return refused();
  // Zone transfers are not offered (RFC 5936 §2.2.1 lets a server refuse them).
  if (query.type === RRType.AXFR || query.type === RRType.IXFR) return refused();

  if (zone.hasDelegations) {
    const cut = findCut(zone, query.lowerName);
    // The parent side answers DS at the cut itself (RFC 4035 §3.1.4.1); everything else is referred.
    if (cut !== undefined && !(cut.name === query.lowerName && query.type === RRType.DS)) return referral(zone, cut, NONE);
  }

  const asked = zone.nodes.get(query.lowerName);
  if (asked === undefined) return negative(zone, Rcode.NXDOMAIN, NONE, null, 0);
  let node: CompiledNode = asked;

  const type = query.type;
  let answer: Buffer[] | null = null;
  let named = false;
  for (let chain = 0; node.cname !== null && type !== RRType.CNAME; chain++) {
    // A chain longer than the limit is cut before the next CNAME, NOERROR, as Knot cuts it.
    if (chain === MAX_CNAME_CHAIN) return positive(zone, answer!, NONE, 0, null);
    // RFC 1034 §4.3.2: answer with the CNAME, then restart at its target while it is ours.
    answer ??= [];
    answer.push(...(named ? namedRecordsOf(node.cname.rrset) : node.cname.rrset.records));
    if (type === RRType.ANY) return positive(zone, answer, NONE, 0, null);
    const target: string = node.cname.target;
    // Followed while the target is below this zone's apex, even where a child zone served here too
    // owns it: as Knot does, the cut in this zone answers with a referral.
    if (target !== zone.origin && !target.endsWith(`.${zone.origin}`)) return positive(zone, answer, NONE, 0, null);
    // A target at or below a zone cut (glue included) is the child's to answer: refer to it.
    const cut = zone.hasDelegations ? findCut(zone, target) : undefined;
    if (cut !== undefined && !(cut.name === target && type === RRType.DS)) return referral(zone, cut, answer);
    const next = zone.nodes.get(target);
    // RFC 6604 §3: the rcode describes the last name in the chain.
    if (next === undefined) return negative(zone, Rcode.NXDOMAIN, answer, null, 0);
    node = next;
    named = true;
  }

  // A CNAME RRset lives in `node.cname`, not in `rrsets`: a question for the CNAME type itself
  // is answered with it (the loop above does not chase for that type).
  if (type === RRType.CNAME && node.cname !== null) return positive(zone, node.cname.rrset.records, NONE, 0, null);

  const wanted = type === RRType.ANY ? node.anyType : type;
  let found = wanted === 0 ? null : collect(node, wanted, named, client, serving);
  if (type === RRType.ANY && node.routed !== null && (found === null || found.records.length === 0)) {
    // RFC 8482 §4.1 answers ANY with an RRset the name has: a routed name whose pools hold no
    // IPv4 member (or none that answers) falls back to AAAA, then to its other records.
    found = collect(node, RRType.AAAA, named, client, serving);
    const other = node.rrsets.keys().next();
    if ((found === null || found.records.length === 0) && !other.done) found = collect(node, other.value, named, client, serving);
  }
  const scope = found?.decision?.scope ?? 0;
  if (found === null || found.records.length === 0) {
    return negative(zone, Rcode.NOERROR, answer ?? NONE, found?.decision ?? null, scope);
  }
  const records = answer === null ? found.records : [...answer, ...found.records];
  return positive(zone, records, found.extra, scope, found.decision);
}

function positive(zone: CompiledZone, answer: readonly Buffer[], extra: readonly Buffer[], ecsScope: number, decision: RoutingDecision | null): Answer {
  return { rcode: Rcode.NOERROR, authoritative: true, answer, authority: NONE, additional: NONE, extraAdditional: extra, ecsScope, zone, decision };
}
