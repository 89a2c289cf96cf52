/**
 * The Authority of a compiled zone: node lookup, wildcards for names it does not hold (RFC 4592,
 * closest-encloser.ts), pre-encoded RRsets shuffled per answer, and routed names answered by
 * routing with this zone's RouteCache; with DNSSEC keys, each RRset followed by its RRSIGs from
 * the zone's signer (signed once, kept). Where new routing kinds (the routed branch of
 * `records`) will plug in.
 */
import type { SignerSlot, ZoneSigner, ZoneSigning } from '../dnssec/index.js';
import type { ClientLocation, GeoLocator } from '../geo/index.js';
import type { HealthView } from '../health/index.js';
import { RouteCache, route, type RandomSource, type RouteResult, type RoutingClient, type RoutingDecision } from '../routing/index.js';
import { addressBits, RRType } from '../wire/index.js';
import { namedRecordsOf, withOwnerWritten, type CompiledNode, type CompiledZone, type RoutedName } from '../zones/index.js';
import { wildcardFor } from './closest-encloser.js';
import type { Authority, ClientAddress, Lookup, Referral } from './authority.js';

/** What answers read besides the zone; each part is swapped whole (or versioned) when it changes. */
export interface ServingParts {
  health: HealthView;
  geo: GeoLocator | null;
  random: RandomSource;
  /** The server's DNSSEC keys (--keys): a signer slot per zone; absent or null when nothing is signed. */
  signing?: ZoneSigning | null;
}

const NONE: readonly Buffer[] = [];
const NXDOMAIN: Lookup = { kind: 'nxdomain' };
const NODATA: FoundRecords = { kind: 'records', records: NONE, extra: NONE, decision: null, wildcard: false };
const WILDCARD_NODATA: Lookup = { kind: 'records', records: NONE, extra: NONE, decision: null, wildcard: true };
const UNKNOWN_LOCATION: ClientLocation = { locationPrefixLength: 0, asnPrefixLength: 0 };

/**
 * The client as routing sees it; its address bits are worked out only if a network rule asks.
 * One per authority, set again for each routed query (`locate`).
 */
class LocatedClient implements RoutingClient {
  private addressBits: bigint | undefined = undefined;
  address = '';
  family: 4 | 6 = 4;
  location: ClientLocation = UNKNOWN_LOCATION;

  locate(client: ClientAddress, geo: GeoLocator | null): this {
    this.address = client.address;
    this.family = client.family;
    this.location = geo ? geo.locate(client.address, client.family) : UNKNOWN_LOCATION;
    this.addressBits = undefined;
    return this;
  }

  bits(): bigint {
    return (this.addressBits ??= addressBits(this.address, this.family));
  }
}

/** The 'records' Lookup a ZoneAuthority hands out, rewritten by its next lookup. */
interface FoundRecords {
  kind: 'records';
  records: readonly Buffer[];
  extra: readonly Buffer[];
  decision: RoutingDecision | null;
  wildcard: boolean;
}

/** The 'cname' Lookup a ZoneAuthority hands out, rewritten by its next lookup. */
interface FoundAlias {
  kind: 'cname';
  records: readonly Buffer[];
  target: string;
  decision: RoutingDecision | null;
  wildcard: boolean;
}

export class ZoneAuthority implements Authority {
  readonly origin: string;
  readonly negativeSoa: Buffer;
  readonly hasDelegations: boolean;
  private readonly routes: RouteCache;
  // What lookup hands out, rewritten by the next lookup (see Authority.lookup): no object per answer.
  private readonly found: FoundRecords = { kind: 'records', records: NONE, extra: NONE, decision: null, wildcard: false };
  private readonly alias: FoundAlias = { kind: 'cname', records: NONE, target: '', decision: null, wildcard: false };
  private readonly client = new LocatedClient();
  private readonly signing: SignerSlot | null;
  /** An RRset and its RRSIGs, as the last DO=1 lookup handed them out. */
  private readonly signed: Buffer[] = [];

  constructor(
    readonly zone: CompiledZone,
    readonly parts: ServingParts,
  ) {
    this.origin = zone.origin;
    this.negativeSoa = zone.negativeSoa;
    this.hasDelegations = zone.hasDelegations;
    this.routes = new RouteCache(zone, parts.health);
    this.signing = parts.signing?.attach(zone) ?? null;
  }

  delegation(name: string, dnssecOk = false): Referral | null {
    const node = this.zone.nodes.get(name);
    if (node === undefined || node.delegation === null) return null;
    const signer = dnssecOk ? this.signing?.current ?? null : null;
    return { name, ns: signer === null ? namedRecordsOf(node.delegation) : signer.referralSection(node), glue: node.glue };
  }

  denial(name: string, type: number): readonly Buffer[] | null {
    const signer = this.signing?.current ?? null;
    if (signer === null) return null;
    // The types listed are those of what answers for the name: its node, or the wildcard covering it.
    return signer.denial(name, type, this.zone.nodes.get(name) ?? wildcardFor(this.zone, name) ?? undefined);
  }

  lookup(name: string, type: number, client: ClientAddress, named: boolean, dnssecOk = false): Lookup {
    const node = this.zone.nodes.get(name);
    const signer = this.signing?.current ?? null;
    // A signed name holds an NSEC, answered as the compact denial's NSEC there would read.
    if (type === RRType.NSEC && dnssecOk && signer !== null) return this.foundRecords(signer.nsecAnswer(name, node ?? wildcardFor(this.zone, name) ?? undefined), NONE, null);
    if (node !== undefined) {
      // DNSKEY, CDS and CDNSKEY at the apex come from the keys, not the zone file.
      if (signer !== null && name === this.origin && signer.servesAtApex(type)) return this.foundRecords(signer.apexRecords(type, dnssecOk, named)!, NONE, null);
      return this.at(node, type, client, named, dnssecOk ? signer : null);
    }
    const wildcard = wildcardFor(this.zone, name);
    if (wildcard === null) return NXDOMAIN;
    // RFC 4592 §3.4.1: the wildcard's records with the asked name as owner. Records whose owner
    // points at the question have it already; after a CNAME the owner depends on that CNAME's
    // target, so it is written out here, for this answer only.
    const found = this.at(wildcard, type, client, false, null);
    if (found === NODATA) return WILDCARD_NODATA;
    if (found.records.length > 0 && dnssecOk && signer !== null) {
      // Signed as the name itself, per name, as online signers answer: no proof about the wildcard is needed.
      const signatures = signer.synthesizedSignaturesOf(name, found.records, named);
      found.records = this.withSignatures(named ? withOwnerWritten(name, found.records) : found.records, signatures);
    } else if (named && found.records.length > 0) found.records = withOwnerWritten(name, found.records);
    found.wildcard = true;
    return found;
  }

  /** `records` followed by `signatures`, in the list the next DO=1 lookup rewrites. */
  private withSignatures(records: readonly Buffer[], signatures: readonly Buffer[]): readonly Buffer[] {
    if (records.length === 0) return records;
    const out = this.signed;
    out.length = 0;
    for (let i = 0; i < records.length; i++) out.push(records[i]!);
    for (let i = 0; i < signatures.length; i++) out.push(signatures[i]!);
    return out;
  }

  /** What `node` holds for `type` (see lookup); each RRset followed by its RRSIGs when `signer` is given. */
  private at(node: CompiledNode, type: number, client: ClientAddress, named: boolean, signer: ZoneSigner | null): FoundRecords | FoundAlias {
    const cname = node.cname;
    if (cname !== null) {
      let records = named ? namedRecordsOf(cname.rrset) : cname.rrset.records;
      if (signer !== null) records = this.withSignatures(records, signer.signaturesOf(cname.rrset, named));
      // A CNAME RRset lives in `node.cname`, not in `rrsets`: asked for by type, it is the answer.
      if (type === RRType.CNAME) return this.foundRecords(records, NONE, null);
      return this.foundAlias(records, cname.target, null);
    }
    if (node.routed?.answersNames === true) return this.routedAlias(node.name, node.routed, type, client, named, signer);
    if (type !== RRType.ANY) return this.records(node, type, client, named, signer) ?? NODATA;
    // RFC 8482 §4.1: one RRset the name has. A routed name whose pools hold no IPv4 member (or
    // none that answers) falls back to AAAA, then to its other records.
    let found = node.anyType === 0 ? null : this.records(node, node.anyType, client, named, signer);
    if (node.routed !== null && (found === null || found.records.length === 0)) {
      found = this.records(node, RRType.AAAA, client, named, signer);
      const other = node.rrsets.keys().next();
      if ((found === null || found.records.length === 0) && !other.done) found = this.records(node, other.value, client, named, signer);
    }
    return found ?? NODATA;
  }

  private foundAlias(records: readonly Buffer[], target: string, decision: RoutingDecision | null): FoundAlias {
    const alias = this.alias;
    alias.records = records;
    alias.target = target;
    alias.decision = decision;
    alias.wildcard = false;
    return alias;
  }

  /**
   * A routed name some of whose pools hold names: its chosen pool gives this client one CNAME
   * for every type (RFC 1034 §3.6.2: the name holds nothing else), or its addresses for A and
   * AAAA and NODATA for other types; either way the answer carries the decision and its scope.
   */
  private routedAlias(name: string, routed: RoutedName, type: number, client: ClientAddress, named: boolean, signer: ZoneSigner | null): FoundRecords | FoundAlias {
    let family: 4 | 6 = type === RRType.AAAA ? 6 : 4;
    let result = this.route(routed, family, client, named);
    if (result.cname !== null) {
      const records = this.signedRoute(result.records, name, routed, family, named, signer);
      return type === RRType.CNAME ? this.foundRecords(records, NONE, result.decision) : this.foundAlias(records, result.cname, result.decision);
    }
    if (type === RRType.ANY && result.records.length === 0) {
      family = 6;
      result = this.route(routed, family, client, named);
    }
    const addresses = type === RRType.A || type === RRType.AAAA || type === RRType.ANY;
    return this.foundRecords(addresses ? this.signedRoute(result.records, name, routed, family, named, signer) : NONE, NONE, result.decision);
  }

  /** A routed answer (a chosen CNAME or member set) followed by its RRSIGs when `signer` is given: kept per set, whatever the order. */
  private signedRoute(records: readonly Buffer[], name: string, routed: RoutedName, family: 4 | 6, named: boolean, signer: ZoneSigner | null): readonly Buffer[] {
    return signer === null || records.length === 0 ? records : this.withSignatures(records, signer.routedSignaturesOf(records, name, routed, family, named));
  }

  /** The routed answer for this client: the route cache's result, rewritten by the next route. */
  private route(routed: RoutedName, family: 4 | 6, client: ClientAddress, named: boolean): RouteResult {
    const located = routed.geo !== null ? this.client.locate(client, this.parts.geo) : null;
    return route(routed, family, located, this.routes, this.parts.random, named);
  }

  private foundRecords(records: readonly Buffer[], extra: readonly Buffer[], decision: RoutingDecision | null): FoundRecords {
    const found = this.found;
    found.records = records;
    found.extra = extra;
    found.decision = decision;
    found.wildcard = false;
    return found;
  }

  /** The records of one type at a node, routed or static, or null when it has none; each RRset followed by its RRSIGs when `signer` is given. */
  private records(node: CompiledNode, type: number, client: ClientAddress, named: boolean, signer: ZoneSigner | null): FoundRecords | null {
    const routed = node.routed;
    if (routed !== null && (type === RRType.A || type === RRType.AAAA)) {
      const family = type === RRType.A ? 4 : 6;
      const result = this.route(routed, family, client, named);
      return this.foundRecords(this.signedRoute(result.records, node.name, routed, family, named, signer), NONE, result.decision);
    }
    const rrset = node.rrsets.get(type);
    if (rrset === undefined) return null;
    const records = this.routes.shuffler.shuffled(named ? namedRecordsOf(rrset) : rrset.records, this.parts.random);
    return this.foundRecords(signer === null ? records : this.withSignatures(records, signer.signaturesOf(rrset, named)), rrset.extra, null);
  }
}
