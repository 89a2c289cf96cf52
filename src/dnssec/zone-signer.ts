/**
 * The signatures of one compiled zone under one key set and one validity window: RRSIGs of its
 * static RRsets, of each distinct member set a routed name answers with, DNSKEY/CDS/CDNSKEY at
 * the apex, and compact denial (RFC 9824) per name. Everything is signed once, the first time
 * it is needed or ahead of time by `warm()`, and kept: the query path then only copies buffers.
 * Renewal and key changes build a new signer (warmed off the path) and swap it in whole.
 */
import type { HealthView } from '../health/index.js';
import { encodeName, recordOf, recordTail, RRType, tailOf } from '../wire/index.js';
import { namedRecordsOf, type CompiledNode, type CompiledRRset, type CompiledZone, type RoutedName } from '../zones/index.js';
import { dsRdata, isKeySigningKey, isPublished, isSigning, type DnssecKey } from './dnskey.js';
import { compactNsecRdata, NXNAME_TYPE, signRRset, type SignatureWindow } from './rrsig.js';

/** Which key does what in one zone at one time. */
export interface ZoneKeySet {
  /** In the DNSKEY RRset. */
  readonly published: readonly DnssecKey[];
  /** Signing the DNSKEY, CDS and CDNSKEY RRsets: the active KSKs and CSKs (the ZSKs when there is none). */
  readonly keySigning: readonly DnssecKey[];
  /** Signing every other RRset: the active ZSKs (the KSKs/CSKs when there is none). */
  readonly zoneSigning: readonly DnssecKey[];
  /** Offered to the parent in CDS/CDNSKEY (RFC 8078): the active key-signing keys. */
  readonly forParent: readonly DnssecKey[];
}

/** The roles of a zone's keys at `now` (seconds), or null when none of them signs. */
export function zoneKeySet(keys: readonly DnssecKey[], now: number): ZoneKeySet | null {
  const signing = keys.filter((key) => isSigning(key, now));
  if (signing.length === 0) return null;
  const ksks = signing.filter(isKeySigningKey);
  const zsks = signing.filter((key) => !isKeySigningKey(key));
  return {
    published: keys.filter((key) => isPublished(key, now)),
    keySigning: ksks.length > 0 ? ksks : zsks,
    zoneSigning: zsks.length > 0 ? zsks : ksks,
    forParent: ksks,
  };
}

/** Two key sets sign alike: the same keys in the same roles. */
export function sameKeySet(a: ZoneKeySet | null, b: ZoneKeySet | null): boolean {
  if (a === null || b === null) return a === b;
  const ids = (keys: readonly DnssecKey[]): string => keys.map((key) => key.path).join('|');
  return ids(a.published) === ids(b.published) && ids(a.keySigning) === ids(b.keySigning) && ids(a.zoneSigning) === ids(b.zoneSigning) && ids(a.forParent) === ids(b.forParent);
}

export interface SignerLimits {
  /** Member sets of routed names kept signed (beyond them, the oldest is dropped). */
  memberSets: number;
  /** Denials kept signed, one per name asked. */
  denials: number;
}

export const DEFAULT_SIGNER_LIMITS: SignerLimits = { memberSets: 4096, denials: 10000 };

/**
 * What a process's signers did, as plain numbers (summed over a cluster's processes for
 * /metrics). Signatures are counted one per RRSIG made.
 */
export interface DnssecCounters {
  /** Static RRsets, the apex's DNSKEY/CDS/CDNSKEY, the negative SOA, referral proofs. */
  dnssecSignaturesStatic: number;
  /** Member sets of routed names and answers synthesized from a wildcard. */
  dnssecSignaturesVariant: number;
  /** Compact-denial NSECs, one per name (and type, for a routed name) asked. */
  dnssecSignaturesDenial: number;
  /** Everything a replacement signer signs again before it takes over (renewal, key change). */
  dnssecSignaturesRenewal: number;
  /** Member sets signed ahead for the health state now (every process, on health, zone or key changes). */
  dnssecVariantsSignedAhead: number;
  /** DO=1 answers whose RRSIGs the signer held already: a buffer copy. */
  dnssecCacheHits: number;
  /** DO=1 answers that had to sign first (on the query path). */
  dnssecCacheMisses: number;
  /** Denials (and wildcard answers) dropped from a full cache, least recently used first. */
  dnssecDenialEvictions: number;
  /** Member sets dropped from a full cache, least recently used first. */
  dnssecVariantEvictions: number;
}

export function newDnssecCounters(): DnssecCounters {
  return {
    dnssecSignaturesStatic: 0,
    dnssecSignaturesVariant: 0,
    dnssecSignaturesDenial: 0,
    dnssecSignaturesRenewal: 0,
    dnssecVariantsSignedAhead: 0,
    dnssecCacheHits: 0,
    dnssecCacheMisses: 0,
    dnssecDenialEvictions: 0,
    dnssecVariantEvictions: 0,
  };
}

type SignatureKind = 'static' | 'variant' | 'denial';
const SIGNATURE_FIELD = { static: 'dnssecSignaturesStatic', variant: 'dnssecSignaturesVariant', denial: 'dnssecSignaturesDenial' } as const;

/**
 * A Map kept in use order (a hit moves its entry to the end), so that the least recently used
 * entry, the first, is the one a full cache drops: a name asked all day outlives a burst of
 * random names.
 */
class RecentlyUsed<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry, now the most recently used; undefined when absent. */
  use(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Adds an entry as the most recently used; returns true when the least recently used one was dropped for it. */
  add(key: K, value: V): boolean {
    this.entries.delete(key);
    let evicted = false;
    if (this.entries.size >= this.limit) {
      this.entries.delete(this.entries.keys().next().value as K);
      evicted = true;
    }
    this.entries.set(key, value);
    return evicted;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries.entries();
  }
}

/** An RRset's signatures, in both owner forms. */
class Signed {
  private named: readonly Buffer[] | null = null;

  constructor(
    readonly owner: string,
    /** The records signed (any owner form): what renewal signs again. */
    readonly records: readonly Buffer[],
    /** RRSIGs whose owner points at the question. */
    readonly signatures: readonly Buffer[],
  ) {}

  signaturesFor(named: boolean): readonly Buffer[] {
    if (!named) return this.signatures;
    if (this.named === null) {
      const ownerWire = encodeName(this.owner);
      this.named = this.signatures.map((signature) => recordOf(ownerWire, tailOf(signature)));
    }
    return this.named;
  }
}

/** Member sets of one name with more distinct addresses than this are keyed by text, not a bit mask. */
const MASK_BITS = 30;
const MASK_SPAN = 2 ** MASK_BITS;

export class ZoneSigner {
  readonly origin: string;
  private readonly statics = new Map<CompiledRRset, Signed>();
  private readonly memberSets: RecentlyUsed<number | string, Signed>;
  private readonly memberIndexes: (Map<Buffer, number> | undefined)[] = [];
  private readonly denials: RecentlyUsed<string, readonly Buffer[]>;
  private readonly synthesized: RecentlyUsed<string, Signed>;
  private readonly referrals = new Map<string, readonly Buffer[]>();
  private readonly apex = new Map<number, { plain: readonly Buffer[]; signed: readonly Buffer[]; named: { plain: readonly Buffer[]; signed: readonly Buffer[] } }>();
  private readonly negativeTtl: number;
  private negativeSoaSigned: readonly Buffer[] | null = null;
  /** True while this signer prepares to replace another (renewal, key change): what it signs counts as renewal. */
  replacing = false;

  constructor(
    readonly zone: CompiledZone,
    readonly keys: ZoneKeySet,
    readonly window: SignatureWindow,
    limits: SignerLimits = DEFAULT_SIGNER_LIMITS,
    /** The process's counters, which every signer it makes adds to. */
    readonly counters: DnssecCounters = newDnssecCounters(),
    replacing = false,
  ) {
    this.origin = zone.origin;
    this.replacing = replacing;
    this.memberSets = new RecentlyUsed(limits.memberSets);
    this.denials = new RecentlyUsed(limits.denials);
    this.synthesized = new RecentlyUsed(limits.denials);
    this.negativeTtl = tailOf(zone.negativeSoa).readUInt32BE(4);
    const dnskeyTtl = this.apexTtl();
    const sets: [number, Buffer[]][] = [
      [RRType.DNSKEY, keys.published.map((key) => recordTail(RRType.DNSKEY, dnskeyTtl, key.rdata))],
      [RRType.CDS, keys.forParent.map((key) => recordTail(RRType.CDS, dnskeyTtl, dsRdata(this.origin, key.rdata)))],
      [RRType.CDNSKEY, keys.forParent.map((key) => recordTail(RRType.CDNSKEY, dnskeyTtl, key.rdata))],
    ];
    for (const [type, tails] of sets) {
      if (tails.length === 0) continue;
      const plain = tails.map((tail) => recordOf(null, tail));
      const signatures = this.signTails('static', this.origin, plain, keys.keySigning);
      // Named: reached through a CNAME to the apex, the owner is the apex, written out.
      const ownerWire = encodeName(this.origin);
      const namedPlain = tails.map((tail) => recordOf(ownerWire, tail));
      this.apex.set(type, {
        plain,
        signed: [...plain, ...signatures.map((tail) => recordOf(null, tail))],
        named: { plain: namedPlain, signed: [...namedPlain, ...signatures.map((tail) => recordOf(ownerWire, tail))] },
      });
    }
  }

  /** The SOA's TTL, which DNSKEY, CDS and CDNSKEY take too. */
  private apexTtl(): number {
    const soa = this.zone.nodes.get(this.origin)?.rrsets.get(RRType.SOA);
    return soa?.ttl ?? this.negativeTtl;
  }

  /** True when the apex serves this type (DNSKEY, CDS, CDNSKEY) from the keys. */
  servesAtApex(type: number): boolean {
    return this.apex.has(type);
  }

  /**
   * The apex's DNSKEY, CDS or CDNSKEY records, with their signatures when `dnssecOk`; the owner
   * pointing at the question, or (`named`, after a CNAME to the apex) written out.
   */
  apexRecords(type: number, dnssecOk: boolean, named = false): readonly Buffer[] | null {
    const set = this.apex.get(type);
    if (set === undefined) return null;
    const form = named ? set.named : set;
    return dnssecOk ? form.signed : form.plain;
  }

  /** RRSIG tails over `records` (one RRset), counted under `kind` (or as renewal while replacing). */
  private signTails(kind: SignatureKind, owner: string, records: readonly Buffer[], keys = this.keys.zoneSigning, originalTtl?: number): Buffer[] {
    const tails = signRRset(owner, this.origin, records, keys, this.window, originalTtl);
    this.counters[this.replacing ? 'dnssecSignaturesRenewal' : SIGNATURE_FIELD[kind]] += tails.length;
    return tails;
  }

  private sign(kind: SignatureKind, owner: string, records: readonly Buffer[]): Signed {
    const tails = this.signTails(kind, owner, records);
    // A copy: the records may be a list routing rewrites for its next answer.
    return new Signed(owner, [...records], tails.map((tail) => recordOf(null, tail)));
  }

  /** Counts a DO=1 answer's look-up: held already (a hit), or signed first. */
  private looked(hit: boolean): void {
    if (hit) this.counters.dnssecCacheHits++;
    else this.counters.dnssecCacheMisses++;
  }

  private staticSigned(rrset: CompiledRRset): Signed {
    let signed = this.statics.get(rrset);
    if (signed === undefined) {
      signed = this.sign('static', rrset.owner, rrset.records);
      this.statics.set(rrset, signed);
    }
    return signed;
  }

  /** The RRSIGs of a static RRset, the owner pointing at the question or (`named`) written out. */
  signaturesOf(rrset: CompiledRRset, named: boolean): readonly Buffer[] {
    this.looked(this.statics.has(rrset));
    return this.staticSigned(rrset).signaturesFor(named);
  }

  /** Each distinct address a routed name answers for a family, numbered; both record forms map to it. */
  private memberIndex(routed: RoutedName, family: 4 | 6): Map<Buffer, number> {
    const slot = routed.slot * 2 + (family === 6 ? 1 : 0);
    let index = this.memberIndexes[slot];
    if (index !== undefined) return index;
    index = new Map();
    const numbers = new Map<string, number>();
    for (const pool of routed.poolsByName.values()) {
      for (const member of family === 4 ? pool.members4 : pool.members6) {
        let number = numbers.get(member.address);
        if (number === undefined) numbers.set(member.address, (number = numbers.size));
        index.set(member.record, number);
        if (member.namedRecord !== null) index.set(member.namedRecord, number);
      }
    }
    this.memberIndexes[slot] = index;
    return index;
  }

  /** The cache key of a member set: a bit per member while the name has few, else the sorted records. */
  private memberSetKey(records: readonly Buffer[], routed: RoutedName, family: 4 | 6): number | string {
    const index = this.memberIndex(routed, family);
    let mask = 0;
    let wide = false;
    for (let i = 0; i < records.length; i++) {
      const number = index.get(records[i]!);
      if (number === undefined || number >= MASK_BITS) wide = true;
      else mask |= 1 << number;
    }
    const slot = routed.slot * 2 + (family === 6 ? 1 : 0);
    return wide ? `${slot}:${records.map((record) => tailOf(record).toString('hex')).sort().join(',')}` : slot * MASK_SPAN + mask;
  }

  /** A member set's signatures, signed now if not held; returns whether it was held. */
  private memberSetSigned(records: readonly Buffer[], name: string, routed: RoutedName, family: 4 | 6): { signed: Signed; held: boolean } {
    const key = this.memberSetKey(records, routed, family);
    let signed = this.memberSets.use(key);
    if (signed !== undefined) return { signed, held: true };
    signed = this.sign('variant', name, records);
    if (this.memberSets.add(key, signed)) this.counters.dnssecVariantEvictions++;
    return { signed, held: false };
  }

  /**
   * The RRSIGs of a routed name's answer (one member set, in any order, either owner form):
   * signed the first time the set is answered (unless signed ahead), then kept.
   */
  routedSignaturesOf(records: readonly Buffer[], name: string, routed: RoutedName, family: 4 | 6, named: boolean): readonly Buffer[] {
    const { signed, held } = this.memberSetSigned(records, name, routed, family);
    this.looked(held);
    return signed.signaturesFor(named);
  }

  /**
   * The RRSIGs of records synthesized for `name` from a wildcard (RFC 4592: owner `name`), signed
   * as if `name` held them, as online signers answer: no proof about the wildcard is then needed.
   * Per name and type, kept up to the denials' limit; a different member set is signed again.
   */
  synthesizedSignaturesOf(name: string, records: readonly Buffer[], named: boolean): readonly Buffer[] {
    const key = `${tailOf(records[0]!).readUInt16BE(0)} ${name}`;
    let signed = this.synthesized.use(key);
    const held = signed !== undefined && signed.records.length === records.length && records.every((record) => signed!.records.includes(record));
    this.looked(held);
    if (!held) {
      signed = this.sign('variant', name, records);
      if (this.synthesized.add(key, signed)) this.counters.dnssecDenialEvictions++;
    }
    return signed!.signaturesFor(named);
  }

  /** The types at a node as a compact denial's bitmap lists them (NSEC and RRSIG added). */
  private typesAt(node: CompiledNode): Set<number> {
    const types = new Set<number>([RRType.NSEC, RRType.RRSIG]);
    for (const type of node.rrsets.keys()) types.add(type);
    if (node.cname !== null) types.add(RRType.CNAME);
    if (node.delegation !== null) types.add(RRType.NS);
    const routed = node.routed;
    if (routed !== null) {
      for (const pool of routed.poolsByName.values()) {
        if (pool.members4.some((member) => member.enabled)) types.add(RRType.A);
        if (pool.members6.some((member) => member.enabled)) types.add(RRType.AAAA);
      }
    }
    if (node.name === this.origin) for (const type of this.apex.keys()) types.add(type);
    return types;
  }

  private signedNegativeSoa(): readonly Buffer[] {
    if (this.negativeSoaSigned === null) {
      const ownerWire = encodeName(this.origin);
      // The SOA's TTL in the zone is the original TTL, as Knot and PowerDNS sign it; the record carries the negative TTL.
      const signatures = this.signTails('static', this.origin, [this.zone.negativeSoa], this.keys.zoneSigning, this.apexTtl());
      this.negativeSoaSigned = [this.zone.negativeSoa, ...signatures.map((tail) => recordOf(ownerWire, tail))];
    }
    return this.negativeSoaSigned;
  }

  /**
   * The authority section proving that `name` has no `type` (RFC 9824): the SOA and an NSEC at
   * the name listing the types of `node`, what answers for the name (NXNAME when nothing does),
   * each with its RRSIG. Signed once per name and kept, up to the limit.
   */
  denial(name: string, type: number, node: CompiledNode | undefined): readonly Buffer[] {
    // A routed name can have no answer for a family it has members of (fail-closed): that type leaves its bitmap.
    const key = node !== undefined && node.routed !== null && (type === RRType.A || type === RRType.AAAA) ? `${name}|${type}` : name;
    const cached = this.denials.use(key);
    this.looked(cached !== undefined);
    if (cached !== undefined) return cached;
    let types: Set<number>;
    if (node === undefined) types = new Set([RRType.NSEC, RRType.RRSIG, NXNAME_TYPE]);
    else {
      types = this.typesAt(node);
      types.delete(type);
    }
    const nsec = this.nsecAt('denial', name, types);
    const proof = [...this.signedNegativeSoa(), ...nsec];
    if (this.denials.add(key, proof)) this.counters.dnssecDenialEvictions++;
    return proof;
  }

  /**
   * The answer to a DO=1 query for NSEC at `name` (RFC 4034 §4: a signed name has one, and Knot's
   * onlinesign answers it so): the NSEC a denial there would carry, with every type of the
   * name, NSEC and RRSIG included (NXNAME when `node` is undefined), and its RRSIGs. Kept with the denials.
   */
  nsecAnswer(name: string, node: CompiledNode | undefined): readonly Buffer[] {
    const key = `${name}|${RRType.NSEC}`;
    const cached = this.denials.use(key);
    this.looked(cached !== undefined);
    if (cached !== undefined) return cached;
    const records = this.nsecAt('denial', name, node === undefined ? [RRType.NSEC, RRType.RRSIG, NXNAME_TYPE] : this.typesAt(node));
    if (this.denials.add(key, records)) this.counters.dnssecDenialEvictions++;
    return records;
  }

  /** An NSEC at `name` (owner written out) with its RRSIGs. */
  private nsecAt(kind: SignatureKind, name: string, types: Iterable<number>): Buffer[] {
    const ownerWire = encodeName(name);
    const nsec = recordOf(ownerWire, recordTail(RRType.NSEC, this.negativeTtl, compactNsecRdata(name, types)));
    const signatures = this.signTails(kind, name, [nsec]);
    return [nsec, ...signatures.map((tail) => recordOf(ownerWire, tail))];
  }

  /**
   * The authority section of a referral to the cut at `node`: its NS, then the DS and its RRSIG,
   * or an NSEC at the cut proving there is no DS (an insecure delegation), RFC 4035 §3.1.4.
   */
  referralSection(node: CompiledNode): readonly Buffer[] {
    const cached = this.referrals.get(node.name);
    this.looked(cached !== undefined);
    if (cached !== undefined) return cached;
    return this.referralSigned(node);
  }

  private referralSigned(node: CompiledNode): readonly Buffer[] {
    const ns = node.delegation === null ? [] : namedRecordsOf(node.delegation);
    let proof: readonly Buffer[];
    const ds = node.rrsets.get(RRType.DS);
    if (ds !== undefined) proof = [...namedRecordsOf(ds), ...this.staticSigned(ds).signaturesFor(true)];
    else proof = this.nsecAt('static', node.name, this.typesAt(node));
    const section = [...ns, ...proof];
    this.referrals.set(node.name, section);
    return section;
  }

  /** How many member sets of routed names are signed and kept. */
  get memberSetCount(): number {
    return this.memberSets.size;
  }

  /** How many signed answers each cache holds now (for /metrics and /status). */
  cacheSizes(): { static: number; variant: number; denial: number } {
    return { static: this.statics.size + this.apex.size + this.referrals.size, variant: this.memberSets.size, denial: this.denials.size + this.synthesized.size };
  }

  /**
   * Signs ahead, a step per routed name, the member sets health now makes possible: each pool's
   * members that are up, and all its answerable ones (what failing open answers). Capped
   * weighted pools, whose subsets are drawn per answer, are signed as each subset is first drawn.
   */
  *presignHealth(health: HealthView): Generator<void, void, void> {
    for (const node of this.zone.nodes.values()) {
      const routed = node.routed;
      if (routed === null) continue;
      for (const pool of routed.poolsByName.values()) {
        for (const family of [4, 6] as const) {
          const answerable = (family === 4 ? pool.members4 : pool.members6).filter((member) => member.enabled && health.status(member.probeKey, member.address) !== 'drained');
          const up = answerable.filter((member) => health.status(member.probeKey, member.address) === 'up');
          for (const set of [up, answerable]) {
            if (set.length === 0 || (pool.maxAnswers !== null && set.length > pool.maxAnswers)) continue;
            if (!this.memberSetSigned(set.map((member) => member.record), node.name, routed, family).held) this.counters.dnssecVariantsSignedAhead++;
          }
        }
      }
      yield;
    }
  }

  /**
   * Signs ahead of time, a step per name: every static RRset, each routed name's full member
   * sets, every zone cut's proof, the member sets `previous` had signed (a renewal or key
   * change keeps the sets its answers used), and those `health` makes possible now. Runs off
   * the query path, in slices.
   */
  *warm(previous: ZoneSigner | null, health: HealthView | null = null): Generator<void, void, void> {
    this.signedNegativeSoa();
    for (const node of this.zone.nodes.values()) {
      for (const rrset of node.rrsets.values()) this.staticSigned(rrset);
      if (node.cname !== null) this.staticSigned(node.cname.rrset);
      if (node.delegation !== null && !this.referrals.has(node.name)) this.referralSigned(node);
      const routed = node.routed;
      if (routed !== null) {
        for (const pool of routed.poolsByName.values()) {
          for (const family of [4, 6] as const) {
            const members = (family === 4 ? pool.members4 : pool.members6).filter((member) => member.enabled);
            // A capped pool answers drawn subsets, each signed when first drawn.
            if (members.length > 0 && (pool.maxAnswers === null || members.length <= pool.maxAnswers)) this.memberSetSigned(members.map((member) => member.record), node.name, routed, family);
          }
        }
      }
      yield;
    }
    if (previous !== null) {
      for (const [key, signed] of [...previous.memberSets]) {
        if (!this.memberSets.has(key)) this.memberSets.add(key, this.sign('variant', signed.owner, signed.records));
        yield;
      }
    }
    if (health !== null) yield* this.presignHealth(health);
  }
}
