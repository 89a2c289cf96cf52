/**
 * The authoritative rules every zone shares: Query × ServingState → response sections.
 * Synchronous, no I/O: REFUSED outside our zones, referrals at zone cuts, CNAME chasing inside
 * the zone, NXDOMAIN/NODATA with the SOA, ANY answered with one RRset (RFC 8482). What a zone
 * holds at a name, routing decisions included, is its Authority's to say (authority/).
 */
import type { Authority, ClientAddress, Referral, ServingState } from '../authority/index.js';
import type { RoutingDecision } from '../routing/index.js';
import { Rcode, RRType, type Query, type ResponseSections } from '../wire/index.js';

// answerQuery's inputs, so its callers import from one place.
export type { ClientAddress, ServingState } from '../authority/index.js';

export interface Answer extends ResponseSections {
  /** The zone that answered; null outside every zone (REFUSED). */
  zone: Authority | null;
  decision: RoutingDecision | null;
  /** The zone does not hold the question's name: a wildcard answered for it (rate limiting keys it by zone). */
  wildcard: boolean;
}

const NONE: readonly Buffer[] = [];

/**
 * An Answer for the query path to hand answerQuery again and again (the packet handler keeps
 * one): every field is rewritten by each answer, and the one-record authority section of
 * negative answers is an array it keeps.
 */
export class ReusedAnswer implements Answer {
  rcode = 0;
  authoritative = false;
  answer: readonly Buffer[] = NONE;
  authority: readonly Buffer[] = NONE;
  additional: readonly Buffer[] = NONE;
  extraAdditional: readonly Buffer[] = NONE;
  ecsScope = 0;
  zone: Authority | null = null;
  decision: RoutingDecision | null = null;
  wildcard = false;
  readonly soaSection: Buffer[] = [Buffer.alloc(0)];
  /** The records of a CNAME chain as they are followed. */
  readonly chain = new ChainRecords();
}

/**
 * The records a CNAME chain collects (each lookup may rewrite the arrays it handed out before, so
 * they are copied): a ReusedAnswer keeps one, and the answer section it makes is an array of that
 * length it keeps too, so a chain allocates nothing once warm. Read the section before the next answer.
 */
export class ChainRecords {
  private readonly collected: Buffer[] = [];
  private count = 0;
  private readonly sections: (Buffer[] | undefined)[] = [];

  get empty(): boolean {
    return this.count === 0;
  }

  clear(): void {
    this.count = 0;
  }

  add(records: readonly Buffer[]): void {
    for (let i = 0; i < records.length; i++) this.collected[this.count++] = records[i]!;
  }

  /** The records collected, then `last`: the answer section. */
  section(last: readonly Buffer[]): readonly Buffer[] {
    const n = this.count + last.length;
    const out = (this.sections[n] ??= new Array<Buffer>(n));
    for (let i = 0; i < this.count; i++) out[i] = this.collected[i]!;
    for (let i = 0; i < last.length; i++) out[this.count + i] = last[i]!;
    return out;
  }
}

function blankAnswer(): Answer {
  return { rcode: 0, authoritative: false, answer: NONE, authority: NONE, additional: NONE, extraAdditional: NONE, ecsScope: 0, zone: null, decision: null, wildcard: false };
}

function fill(
  into: Answer,
  rcode: number,
  authoritative: boolean,
  answer: readonly Buffer[],
  authority: readonly Buffer[],
  additional: readonly Buffer[],
  extraAdditional: readonly Buffer[],
  ecsScope: number,
  zone: Authority | null,
  decision: RoutingDecision | null,
): Answer {
  into.rcode = rcode;
  into.authoritative = authoritative;
  into.answer = answer;
  into.authority = authority;
  into.additional = additional;
  into.extraAdditional = extraAdditional;
  into.ecsScope = ecsScope;
  into.zone = zone;
  into.decision = decision;
  return into;
}
/** CNAME records one answer follows, as Knot: a longer chain is cut there and the resolver goes on. */
export const MAX_CNAME_CHAIN = 5;

function refused(into: Answer): Answer {
  return fill(into, Rcode.REFUSED, false, NONE, NONE, NONE, NONE, 0, null, null);
}

/**
 * NXDOMAIN or NODATA with the SOA. To a DO=1 query for a signed zone (`denial`: the zone's signed
 * SOA and NSEC at the name), compact denial (RFC 9824): NOERROR, whether or not the name exists.
 */
function negative(into: Answer, zone: Authority, rcode: number, answer: readonly Buffer[], decision: RoutingDecision | null, ecsScope: number, denial: readonly Buffer[] | null): Answer {
  if (denial !== null) return fill(into, Rcode.NOERROR, true, answer, denial, NONE, NONE, ecsScope, zone, decision);
  let soa: Buffer[];
  if (into instanceof ReusedAnswer) {
    soa = into.soaSection;
    soa[0] = zone.negativeSoa;
  } else soa = [zone.negativeSoa];
  return fill(into, rcode, true, answer, soa, NONE, NONE, ecsScope, zone, decision);
}

function positive(into: Answer, zone: Authority, answer: readonly Buffer[], extra: readonly Buffer[], ecsScope: number, decision: RoutingDecision | null): Answer {
  return fill(into, Rcode.NOERROR, true, answer, NONE, NONE, extra, ecsScope, zone, decision);
}

/**
 * The child's NS in the authority section and its glue. Reached through a CNAME chain, the answer
 * carries the chain and stays authoritative (AA=1, as Knot and NSD answer): the records in it are ours.
 */
function referral(into: Answer, zone: Authority, cut: Referral, answer: readonly Buffer[]): Answer {
  const authoritative = answer.length > 0;
  return fill(into, Rcode.NOERROR, authoritative, answer, cut.ns, cut.glue, NONE, 0, zone, null);
}

/** The answer section: a lone answer (no chain before it) is the records as the authority handed them, no copy. */
function sectionOf(chain: ChainRecords, last: readonly Buffer[]): readonly Buffer[] {
  return chain.empty ? last : chain.section(last);
}

/** `name` is `origin` or below it, compared in place (no `.${origin}` string per query). */
function isAtOrBelow(name: string, origin: string): boolean {
  if (name.length === origin.length) return name === origin;
  return name.length > origin.length && name.charCodeAt(name.length - origin.length - 1) === 0x2e && name.endsWith(origin);
}

/** Names whose cut (or none) is remembered per authority, before its memo starts again. */
const CUT_MEMO_ENTRIES = 4096;
/** Per authority (one per zone version), the cut each name asked without DO is under: no suffix strings per query. */
const cutMemos = new WeakMap<Authority, Map<string, Referral | null>>();

/** The highest zone cut at or above `lowerName` (below the apex), if any. */
function findCut(zone: Authority, lowerName: string, dnssecOk: boolean): Referral | null {
  // With DO the referral carries the signer's current records: asked afresh.
  if (dnssecOk) return searchCut(zone, lowerName, true);
  let memo = cutMemos.get(zone);
  if (memo === undefined || memo.size >= CUT_MEMO_ENTRIES) cutMemos.set(zone, (memo = new Map()));
  let cut = memo.get(lowerName);
  if (cut === undefined) memo.set(lowerName, (cut = searchCut(zone, lowerName, false)));
  return cut;
}

function searchCut(zone: Authority, lowerName: string, dnssecOk: boolean): Referral | null {
  let found: Referral | null = null;
  let name = lowerName;
  while (name.length > zone.origin.length) {
    found = zone.delegation(name, dnssecOk) ?? found; // keep going: the highest cut wins
    name = name.slice(name.indexOf('.') + 1);
  }
  return found;
}

/**
 * Answers one decoded query, in `into` when given (a ReusedAnswer: the query path's, rewritten by
 * the next answer), else in an Answer of its own.
 */
export function answerQuery(query: Query, client: ClientAddress, serving: ServingState, into: Answer = blankAnswer()): Answer {
  into.wildcard = false;
  const zone = serving.authorities.findZone(query.lowerName);
  if (zone === undefined || query.qclass !== 1) return refused(into);
  const type = query.type;
  // Zone transfers are not offered (RFC 5936 §2.2.1 lets a server refuse them).
  if (type === RRType.AXFR || type === RRType.IXFR) return refused(into);
  const dnssecOk = query.edns !== null && query.edns.dnssecOk;

  if (zone.hasDelegations) {
    const cut = findCut(zone, query.lowerName, dnssecOk);
    // The parent side answers DS at the cut itself (RFC 4035 §3.1.4.1); everything else is referred.
    if (cut !== null && !(cut.name === query.lowerName && type === RRType.DS)) return referral(into, zone, cut, NONE);
  }

  let name = query.lowerName;
  // The CNAME records followed so far (none: the usual answer, straight from the authority).
  const chain = into instanceof ReusedAnswer ? into.chain : new ChainRecords();
  chain.clear();
  let named = false;
  // A CNAME chosen by routing (a pool of names) decides the answer as much as the records after
  // it: the first decision met is the answer's, and the scope covers every decision in the chain.
  let decision: RoutingDecision | null = null;
  let scope = 0;
  for (let hops = 0; ; hops++) {
    const found = zone.lookup(name, type, client, named, dnssecOk);
    if (hops === 0 && found.kind !== 'nxdomain') into.wildcard = found.wildcard;
    // RFC 6604 §3: the rcode describes the last name in the chain.
    if (found.kind === 'nxdomain') return negative(into, zone, Rcode.NXDOMAIN, sectionOf(chain, NONE), decision, scope, dnssecOk ? zone.denial(name, type) : null);
    if (found.decision !== null) {
      decision ??= found.decision;
      if (found.decision.scope > scope) scope = found.decision.scope;
    }
    if (found.kind === 'records') {
      if (found.records.length === 0) return negative(into, zone, Rcode.NOERROR, sectionOf(chain, NONE), decision, scope, dnssecOk ? zone.denial(name, type) : null);
      return positive(into, zone, sectionOf(chain, found.records), found.extra, scope, decision);
    }
    // A chain longer than the limit is cut before the next CNAME, NOERROR, as Knot cuts it.
    if (hops === MAX_CNAME_CHAIN) return positive(into, zone, sectionOf(chain, NONE), NONE, scope, decision);
    // RFC 1034 §4.3.2: answer with the CNAME, then restart at its target while it is ours.
    if (type === RRType.ANY) return positive(into, zone, sectionOf(chain, found.records), NONE, scope, decision);
    const target = found.target;
    // Followed while the target is below this zone's apex, even where a child zone served here too
    // owns it: as Knot does, the cut in this zone answers with a referral.
    if (!isAtOrBelow(target, zone.origin)) return positive(into, zone, sectionOf(chain, found.records), NONE, scope, decision);
    chain.add(found.records);
    // A target at or below a zone cut (glue included) is the child's to answer: refer to it.
    const cut = zone.hasDelegations ? findCut(zone, target, dnssecOk) : null;
    if (cut !== null && !(cut.name === target && type === RRType.DS)) return referral(into, zone, cut, sectionOf(chain, NONE));
    name = target;
    named = true;
  }
}
