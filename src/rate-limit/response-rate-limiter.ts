/**
 * The response rate limiter: one token bucket per (client prefix, response class, name), kept in
 * a table of fixed size, so memory is bounded whatever the number of sources.
 *
 * A bucket holds at most RATE responses and gains RATE each second; a response that finds it
 * empty is limited: dropped, except every SLIP-th, which is slipped (sent as a bare TC=1 reply so
 * a real resolver behind a spoofed prefix retries over TCP). The table is open-addressed: a key
 * hashes to a slot and is looked for in the next PROBE slots; a new key takes a free slot there
 * (never used, or unused for the window), else the least recently used of them is evicted.
 *
 * The query path calls `decide()`: no clock (the time is the second `tick()` last set), no
 * allocation, no logging. `review()` runs off that path: it finds which prefixes started or
 * stopped being limited since the last review and counts the tokens in use.
 */
import { formatPrefix, readAddress } from '../wire/index.js';
import { maskAddress, blockContains, type AddressBlock } from './client-address.js';
import { RESPONSE_CLASS_NAMES, type ResponseClass } from './response-class.js';

export interface RateLimitSettings {
  /** Responses per second per token. */
  rate: number;
  /** Prefix length of IPv4 clients a token is kept for (BIND, Knot: 24). */
  ipv4PrefixLength: number;
  /** Prefix length of IPv6 clients (BIND, Knot: 56). */
  ipv6PrefixLength: number;
  /**
   * Seconds a prefix counts as limited after its last limited response (and a token is kept
   * after its last use): the "stops being limited" line comes a window after a flood ends.
   */
  windowSeconds: number;
  /** Every SLIP-th limited response is sent as TC=1; 0 drops them all, 1 slips them all. */
  slip: number;
  /** Clients never limited (monitoring, known resolvers). */
  exempt: readonly AddressBlock[];
  /** Table slots, a power of two (default 65,536: ~2.5 MB). */
  tableSize?: number;
}

export const DEFAULT_RATE_LIMIT: Omit<RateLimitSettings, 'rate'> = {
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 56,
  windowSeconds: 15,
  slip: 2,
  exempt: [],
};

/** What to do with one UDP response. */
export const Verdict = { SEND: 0, SLIP: 1, DROP: 2, EXEMPT: 3, BADCOOKIE: 4 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** Plain counters, read at scrape time. */
export interface RateLimitCounters {
  /** Responses over the limit: slipped + dropped + answered BADCOOKIE. */
  limited: number;
  slipped: number;
  dropped: number;
  /** Limited responses to a client that sent a client cookie: BADCOOKIE with a fresh server cookie instead. */
  badCookie: number;
  /** Live tokens evicted to make room for a new one (the table was too small for the load). */
  evicted: number;
}

/** A prefix that started or stopped being limited, for the log. */
export interface LimitingChange {
  prefix: string;
  /** The classes limited (start) or last limited (stop), e.g. ["nxdomain"]. */
  classes: string[];
  /** Responses limited for this prefix while it was, at the time of the review. */
  limitedResponses: number;
}

const PROBE = 8;
const DEFAULT_TABLE_SIZE = 1 << 16;
const FAMILY_6 = 0x10;

export class ResponseRateLimiter {
  readonly counters: RateLimitCounters = { limited: 0, slipped: 0, dropped: 0, badCookie: 0, evicted: 0 };
  private readonly rate: number;
  private readonly slip: number;
  private readonly window: number;
  private readonly v4Bits: number;
  private readonly v6Bits: number;
  private readonly exempt: readonly AddressBlock[];
  private readonly mask: number;
  private readonly seed: number;
  /** The current second (1 at construction; 0 means "never" in the tables below). */
  private now = 1;
  private readonly scratch = new Uint32Array(4);
  /** The prefix masks, word by word, for IPv4 (first word) and IPv6. */
  private readonly v4Mask: number;
  private readonly v6Masks = new Uint32Array(4);

  // One slot per index, as parallel typed arrays (no object per token).
  /** 0: empty; else the class, plus FAMILY_6 for IPv6. */
  private readonly kind: Uint8Array;
  private readonly address: Uint32Array;
  private readonly name: Uint32Array;
  private readonly tokens: Int32Array;
  private readonly refilledAt: Uint32Array;
  private readonly usedAt: Uint32Array;
  private readonly limitedAt: Uint32Array;
  /** Limited responses of this token since it was created: every SLIP-th one slips. */
  private readonly limitedCount: Uint32Array;
  /** Something was limited since the last review: the review must look. */
  private limitedSinceReview = false;
  /** Prefixes limited at the last review → what was said of them. */
  private limitedPrefixes = new Map<string, LimitingChange>();

  constructor(settings: RateLimitSettings, seed = (Math.random() * 0x100000000) >>> 0) {
    const size = settings.tableSize ?? DEFAULT_TABLE_SIZE;
    if (!Number.isInteger(size) || size < PROBE || (size & (size - 1)) !== 0) throw new Error(`rate limit table size must be a power of two ≥ ${PROBE}`);
    this.rate = settings.rate;
    this.slip = settings.slip;
    this.window = settings.windowSeconds;
    this.v4Bits = settings.ipv4PrefixLength;
    this.v6Bits = settings.ipv6PrefixLength;
    this.exempt = settings.exempt;
    const all = new Uint32Array([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    maskAddress(all, this.v4Bits);
    this.v4Mask = all[0]!;
    all.fill(0xffffffff);
    maskAddress(all, this.v6Bits);
    this.v6Masks.set(all);
    this.mask = size - 1;
    this.seed = seed;
    this.kind = new Uint8Array(size);
    this.address = new Uint32Array(size * 4);
    this.name = new Uint32Array(size);
    this.tokens = new Int32Array(size);
    this.refilledAt = new Uint32Array(size);
    this.usedAt = new Uint32Array(size);
    this.limitedAt = new Uint32Array(size);
    this.limitedCount = new Uint32Array(size);
  }

  /** Sets the current second (monotonic, from 1); called by the review timer, or a test. */
  tick(second: number): void {
    if (second > this.now) this.now = second;
  }

  /**
   * Counts one UDP response of `responseClass` for `name` (a hash from `hashWireName`, 0 for
   * none) to the client at `peer` (the socket's address, never the ECS subnet). `clientCookie`:
   * the query carried a client cookie (without a valid server cookie, which is never limited), so
   * over the limit it gets BADCOOKIE and a fresh server cookie rather than a drop or a slip.
   */
  decide(peer: string, responseClass: ResponseClass, name: number, clientCookie = false): Verdict {
    const words = this.scratch;
    const family = readAddress(peer, words);
    if (family === 0) return Verdict.SEND;
    for (let i = 0; i < this.exempt.length; i++) if (blockContains(this.exempt[i]!, family, words)) return Verdict.EXEMPT;
    let kind: number = responseClass;
    let w0: number;
    let w1 = 0;
    let w2 = 0;
    let w3 = 0;
    if (family === 4) w0 = (words[0]! & this.v4Mask) >>> 0;
    else {
      const masks = this.v6Masks;
      kind |= FAMILY_6;
      w0 = (words[0]! & masks[0]!) >>> 0;
      w1 = (words[1]! & masks[1]!) >>> 0;
      w2 = (words[2]! & masks[2]!) >>> 0;
      w3 = (words[3]! & masks[3]!) >>> 0;
    }
    let hash = Math.imul(this.seed ^ kind, 0x9e3779b1);
    hash = Math.imul(hash ^ w0, 0x85ebca6b);
    hash = Math.imul(hash ^ w1, 0xc2b2ae35);
    hash = Math.imul(hash ^ w2, 0x85ebca6b);
    hash = Math.imul(hash ^ w3, 0xc2b2ae35);
    hash = Math.imul(hash ^ name, 0x9e3779b1);
    hash ^= hash >>> 16;
    const now = this.now;
    const stale = now - this.window;
    let slot = -1;
    let free = -1;
    let oldest = -1;
    let oldestUse = 0xffffffff;
    for (let probe = 0; probe < PROBE; probe++) {
      const s = (hash + probe) & this.mask;
      const k = this.kind[s]!;
      if (k === kind && this.name[s] === name) {
        const a = s * 4;
        if (this.address[a] === w0 && this.address[a + 1] === w1 && this.address[a + 2] === w2 && this.address[a + 3] === w3) {
          slot = s;
          break;
        }
      }
      const used = this.usedAt[s]!;
      if (free === -1 && (k === 0 || used < stale)) free = s;
      if (used < oldestUse) {
        oldestUse = used;
        oldest = s;
      }
    }
    const rate = this.rate;
    if (slot === -1) {
      if (free !== -1) slot = free;
      else {
        slot = oldest;
        this.counters.evicted++;
      }
      this.kind[slot] = kind;
      this.name[slot] = name;
      const a = slot * 4;
      this.address[a] = w0;
      this.address[a + 1] = w1;
      this.address[a + 2] = w2;
      this.address[a + 3] = w3;
      this.tokens[slot] = rate;
      this.refilledAt[slot] = now;
      this.limitedAt[slot] = 0;
      this.limitedCount[slot] = 0;
    } else if (this.refilledAt[slot]! < now) {
      const refilled = this.tokens[slot]! + rate * (now - this.refilledAt[slot]!);
      this.tokens[slot] = refilled > rate ? rate : refilled;
      this.refilledAt[slot] = now;
    }
    this.usedAt[slot] = now;
    if (this.tokens[slot]! > 0) {
      this.tokens[slot]!--;
      return Verdict.SEND;
    }
    this.limitedAt[slot] = now;
    this.limitedSinceReview = true;
    this.counters.limited++;
    if (clientCookie) {
      this.counters.badCookie++;
      return Verdict.BADCOOKIE;
    }
    const count = ++this.limitedCount[slot]!;
    if (this.slip > 0 && count % this.slip === 0) {
      this.counters.slipped++;
      return Verdict.SLIP;
    }
    this.counters.dropped++;
    return Verdict.DROP;
  }

  /** Tokens used within the window. */
  tokensInUse(): number {
    const stale = this.now - this.window;
    let count = 0;
    for (let s = 0; s <= this.mask; s++) if (this.kind[s] !== 0 && this.usedAt[s]! >= stale) count++;
    return count;
  }

  /**
   * Off the query path: the prefixes that started being limited since the last review (a
   * limited response within the window) and those that stopped (none for a whole window).
   */
  review(): { started: LimitingChange[]; stopped: LimitingChange[] } {
    if (!this.limitedSinceReview && this.limitedPrefixes.size === 0) return { started: [], stopped: [] };
    this.limitedSinceReview = false;
    const stale = this.now - this.window;
    const current = new Map<string, LimitingChange>();
    const words = new Uint32Array(4);
    for (let s = 0; s <= this.mask; s++) {
      const at = this.limitedAt[s]!;
      if (at === 0 || at < stale || this.kind[s] === 0) continue;
      const kind = this.kind[s]!;
      const family = kind & FAMILY_6 ? 6 : 4;
      words.set(this.address.subarray(s * 4, s * 4 + 4));
      const prefix = formatPrefix(family, words, family === 4 ? this.v4Bits : this.v6Bits);
      let entry = current.get(prefix);
      if (entry === undefined) {
        entry = { prefix, classes: [], limitedResponses: 0 };
        current.set(prefix, entry);
      }
      const className = RESPONSE_CLASS_NAMES[(kind & ~FAMILY_6) as ResponseClass];
      if (!entry.classes.includes(className)) entry.classes.push(className);
      entry.limitedResponses += this.limitedCount[s]!;
    }
    for (const entry of current.values()) entry.classes.sort();
    const started = [...current.values()].filter((entry) => !this.limitedPrefixes.has(entry.prefix));
    const stopped = [...this.limitedPrefixes.values()].filter((entry) => !current.has(entry.prefix));
    this.limitedPrefixes = current;
    return { started, stopped };
  }
}
