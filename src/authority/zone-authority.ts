/**
 * The Authority of a compiled zone: node lookup, pre-encoded RRsets shuffled per answer, and
 * routed names answered by routing with this zone's RouteCache. Where wildcards (a lookup that
 * finds no node), DNSSEC (signatures beside the records, denial for NXDOMAIN/NODATA) and new
 * routing kinds (the routed branch of `records`) will plug in.
 */
import type { ClientLocation, GeoLocator } from '../geo/index.js';
import type { HealthView } from '../health/index.js';
import { RouteCache, routeName, shuffled, type RandomSource, type RoutingClient } from '../routing/index.js';
import { RRType } from '../wire/index.js';
import { addressBits, namedRecordsOf, type CompiledNode, type CompiledZone } from '../zones/index.js';
import type { Authority, ClientAddress, Lookup, Referral } from './authority.js';

/** What answers read besides the zone; each part is swapped whole (or versioned) when it changes. */
export interface ServingParts {
  health: HealthView;
  geo: GeoLocator | null;
  random: RandomSource;
}

const NONE: readonly Buffer[] = [];
const NXDOMAIN: Lookup = { kind: 'nxdomain' };
const NODATA: Lookup = { kind: 'records', records: NONE, extra: NONE, decision: null };
const UNKNOWN_LOCATION: ClientLocation = { locationPrefixLength: 0, asnPrefixLength: 0 };

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

export class ZoneAuthority implements Authority {
  readonly origin: string;
  readonly negativeSoa: Buffer;
  readonly hasDelegations: boolean;
  private readonly routes: RouteCache;

  constructor(
    readonly zone: CompiledZone,
    readonly parts: ServingParts,
  ) {
    this.origin = zone.origin;
    this.negativeSoa = zone.negativeSoa;
    this.hasDelegations = zone.hasDelegations;
    this.routes = new RouteCache(zone, parts.health);
  }

  delegation(name: string): Referral | null {
    const node = this.zone.nodes.get(name);
    if (node === undefined || node.delegation === null) return null;
    return { name, ns: namedRecordsOf(node.delegation), glue: node.glue };
  }

  lookup(name: string, type: number, client: ClientAddress, named: boolean): Lookup {
    const node = this.zone.nodes.get(name);
    if (node === undefined) return NXDOMAIN;
    const cname = node.cname;
    if (cname !== null) {
      const records = named ? namedRecordsOf(cname.rrset) : cname.rrset.records;
      // A CNAME RRset lives in `node.cname`, not in `rrsets`: asked for by type, it is the answer.
      return type === RRType.CNAME ? { kind: 'records', records, extra: NONE, decision: null } : { kind: 'cname', records, target: cname.target };
    }
    if (type !== RRType.ANY) return this.records(node, type, client, named) ?? NODATA;
    // RFC 8482 §4.1: one RRset the name has. A routed name whose pools hold no IPv4 member (or
    // none that answers) falls back to AAAA, then to its other records.
    let found = node.anyType === 0 ? null : this.records(node, node.anyType, client, named);
    if (node.routed !== null && (found === null || found.records.length === 0)) {
      found = this.records(node, RRType.AAAA, client, named);
      const other = node.rrsets.keys().next();
      if ((found === null || found.records.length === 0) && !other.done) found = this.records(node, other.value, client, named);
    }
    return found ?? NODATA;
  }

  /** The records of one type at a node, routed or static, or null when it has none. */
  private records(node: CompiledNode, type: number, client: ClientAddress, named: boolean): (Lookup & { kind: 'records' }) | null {
    const routed = node.routed;
    if (routed !== null && (type === RRType.A || type === RRType.AAAA)) {
      const result = routeName({
        routed,
        family: type === RRType.A ? 4 : 6,
        client: routed.geo !== null ? new LocatedClient(client, this.parts.geo) : null,
        cache: this.routes,
        random: this.parts.random,
        named,
      });
      return { kind: 'records', records: result.records, extra: NONE, decision: result.decision };
    }
    const rrset = node.rrsets.get(type);
    if (rrset === undefined) return null;
    return { kind: 'records', records: shuffled(named ? namedRecordsOf(rrset) : rrset.records, this.parts.random), extra: rrset.extra, decision: null };
  }
}
