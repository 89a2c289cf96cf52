/**
 * What makes two responses "the same" for rate limiting, as BIND's and Knot's RRL count them: a
 * flood of one answer, or of random names in one zone, is one token however the names vary.
 */

/** The response classes; each is a separate token for the same client prefix. */
export const ResponseClass = {
  /** Records in the answer section: counted per query name. */
  POSITIVE: 1,
  /** NOERROR with no answer records: counted per query name. */
  NODATA: 2,
  /** Counted per zone (the SOA owner in the authority section), so random names share a token. */
  NXDOMAIN: 3,
  /** A delegation: counted per delegation point (the NS owner). */
  REFERRAL: 4,
  /** Every other rcode (REFUSED, FORMERR, SERVFAIL, …): one token per prefix. */
  ERROR: 5,
  /**
   * Answers (or NODATA) a wildcard gave for a name the zone does not hold: counted per zone, as
   * Knot's WILDCARD class, or random names under a wildcard would each be a token of their own.
   */
  WILDCARD: 6,
} as const;
export type ResponseClass = (typeof ResponseClass)[keyof typeof ResponseClass];

export const RESPONSE_CLASS_NAMES: Readonly<Record<ResponseClass, string>> = {
  1: 'positive',
  2: 'nodata',
  3: 'nxdomain',
  4: 'referral',
  5: 'error',
  6: 'wildcard',
};

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over a wire-format name starting at `offset` (a packet's question at 12, or a
 * pre-encoded record's owner at 0), ASCII letters folded to lower case so 0x20-randomised
 * queries share a token. Stops at the root label, a compression pointer or the buffer's end.
 */
export function hashWireName(buffer: Buffer, offset: number): number {
  let hash = FNV_OFFSET;
  const end = Math.min(buffer.length, offset + 255);
  let at = offset;
  while (at < end) {
    const length = buffer[at]!;
    if (length === 0 || length >= 0xc0) break;
    hash = Math.imul(hash ^ length, FNV_PRIME);
    const labelEnd = Math.min(end, at + 1 + length);
    for (let i = at + 1; i < labelEnd; i++) {
      let byte = buffer[i]!;
      if (byte >= 0x41 && byte <= 0x5a) byte |= 0x20;
      hash = Math.imul(hash ^ byte, FNV_PRIME);
    }
    at = labelEnd;
  }
  // 30 bits: a small integer to V8, so returning it allocates nothing.
  return (hash ^ (hash >>> 30)) & 0x3fffffff;
}
