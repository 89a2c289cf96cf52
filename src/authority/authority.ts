/**
 * The contract between the answer rules and a zone's data: `Authority`, as Hickory DNS's
 * authority trait. answer/ applies the rules every zone shares (zone cuts, CNAME chasing,
 * negative answers, ANY); an Authority says what one zone holds at a name, routing included.
 */
import type { RoutingDecision } from '../routing/index.js';

/** The network address answers are tailored to: the ECS subnet if sent, else the source address. */
export interface ClientAddress {
  address: string;
  family: 4 | 6;
}

/** What a zone holds for one (name, type). */
export type Lookup =
  /** No such name in the zone, nor a wildcard at its closest encloser (RFC 4592). */
  | { readonly kind: 'nxdomain' }
  /**
   * The name is an alias and the type asked is not CNAME: its CNAME records and their target,
   * and the routing decision when the CNAME came from a pool of names. `wildcard`, here and
   * below: the zone does not hold the name; a wildcard answered for it.
   */
  | { readonly kind: 'cname'; readonly records: readonly Buffer[]; readonly target: string; readonly decision: RoutingDecision | null; readonly wildcard: boolean }
  /**
   * The name exists: the records of that type in answer order (empty: NODATA), the helpful
   * additional-section records, and the routing decision when the records came from pools.
   */
  | {
      readonly kind: 'records';
      readonly records: readonly Buffer[];
      readonly extra: readonly Buffer[];
      readonly decision: RoutingDecision | null;
      readonly wildcard: boolean;
    };

/** A zone cut: the child's NS records (owner written out) and the glue for them. */
export interface Referral {
  readonly name: string;
  readonly ns: readonly Buffer[];
  readonly glue: readonly Buffer[];
}

/**
 * One zone as the answer rules see it. Implementations are built off the query path and are
 * synchronous, allocation-light and throw-free on it. Lower-case names throughout.
 */
export interface Authority {
  readonly origin: string;
  /** The SOA for the authority section of NXDOMAIN and NODATA, TTL = min(SOA TTL, minimum) (RFC 2308 §5). */
  readonly negativeSoa: Buffer;
  /** False when no name below the apex is a zone cut: the answer rules skip looking for one. */
  readonly hasDelegations: boolean;
  /**
   * The zone cut at exactly `name` (below the apex), or null. `dnssecOk` (a DO=1 query) and a
   * signed zone: the NS are followed by the DS and its RRSIG, or an NSEC proving there is none.
   */
  delegation(name: string, dnssecOk?: boolean): Referral | null;
  /**
   * The records for (name, type) as this client gets them. ANY gives one RRset of the name
   * (RFC 8482 §4.1), the zone's choice of which. A name the zone does not hold is answered from
   * the wildcard at its closest encloser, owner = `name` (RFC 4592). `named`: the records follow a
   * CNAME in the answer, so their owner is written out instead of pointing at the question. The
   * Lookup (and its records list) may be the authority's own object, rewritten by its next lookup,
   * so that answering allocates nothing: read it before looking up again, copy what must outlive that.
   * `dnssecOk` (a DO=1 query) and a signed zone: each RRset is followed by its RRSIGs; a name
   * answered from a wildcard is signed as the name itself, as online signers answer.
   */
  lookup(name: string, type: number, client: ClientAddress, named: boolean, dnssecOk?: boolean): Lookup;
  /**
   * A signed zone's authority section for "no `type` at `name`" to a DO=1 query: the SOA and a
   * compact denial NSEC at the name (RFC 9824), each with its RRSIG; null when the zone is unsigned.
   */
  denial(name: string, type: number): readonly Buffer[] | null;
}
