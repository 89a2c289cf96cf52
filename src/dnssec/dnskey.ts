/**
 * DNSKEY records and what is derived from them: the RDATA, the key tag (RFC 4034 Appendix B),
 * the DS digest for the parent (SHA-256, RFC 4509), CDS/CDNSKEY content (RFC 8078), and whether
 * a key is published or signing at a given time from its BIND timing metadata.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { encodeName } from '../wire/index.js';
import type { SigningAlgorithm } from './algorithms.js';

/** DNSKEY flags: ZONE (256) alone is a zone-signing key; with SEP (1) a key-signing key or CSK. */
export const ZONE_KEY_FLAG = 256;
export const SEP_FLAG = 1;
export const KSK_FLAGS = ZONE_KEY_FLAG | SEP_FLAG;
const PROTOCOL = 3;
/** DS digest type 2: SHA-256. */
export const DIGEST_SHA256 = 2;

/** BIND's timing metadata; each a time in whole seconds since the epoch, or absent. */
export interface KeyTiming {
  created?: number;
  publish?: number;
  activate?: number;
  inactive?: number;
  delete?: number;
}

export const TIMING_FIELDS = ['created', 'publish', 'activate', 'inactive', 'delete'] as const;

export interface DnssecKey {
  /** Lower case, no final dot. */
  readonly zone: string;
  readonly flags: number;
  readonly algorithm: SigningAlgorithm;
  readonly publicKey: Buffer;
  readonly privateKey: KeyObject;
  /** DNSKEY RDATA: flags, protocol, algorithm, public key. */
  readonly rdata: Buffer;
  readonly tag: number;
  readonly timing: KeyTiming;
  /** The key's files without extension (`DIR/Kzone.+013+12345`). */
  readonly path: string;
}

export function dnskeyRdata(flags: number, algorithm: number, publicKey: Buffer): Buffer {
  const rdata = Buffer.alloc(4 + publicKey.length);
  rdata.writeUInt16BE(flags, 0);
  rdata[2] = PROTOCOL;
  rdata[3] = algorithm;
  publicKey.copy(rdata, 4);
  return rdata;
}

/** RFC 4034 Appendix B: the ones-complement-like checksum of the DNSKEY RDATA. */
export function keyTag(rdata: Buffer): number {
  let sum = 0;
  for (let i = 0; i < rdata.length; i++) sum += i & 1 ? rdata[i]! : rdata[i]! << 8;
  sum += (sum >> 16) & 0xffff;
  return sum & 0xffff;
}

/** A key-signing key (SEP flag), which the parent's DS points at; a CSK is one too. */
export function isKeySigningKey(key: Pick<DnssecKey, 'flags'>): boolean {
  return (key.flags & SEP_FLAG) !== 0;
}

/** DS RDATA (RFC 4034 §5.1) with a SHA-256 digest of owner | DNSKEY RDATA. */
export function dsRdata(zone: string, rdata: Buffer): Buffer {
  const digest = createHash('sha256').update(encodeName(zone.toLowerCase())).update(rdata).digest();
  const ds = Buffer.alloc(4 + digest.length);
  ds.writeUInt16BE(keyTag(rdata), 0);
  ds[2] = rdata[3]!;
  ds[3] = DIGEST_SHA256;
  digest.copy(ds, 4);
  return ds;
}

/** The DS record as `dnssec-dsfromkey` prints it: `zone. IN DS TAG ALG 2 HEX`. */
export function presentDs(zone: string, rdata: Buffer): string {
  const ds = dsRdata(zone, rdata);
  return `${zone}. IN DS ${ds.readUInt16BE(0)} ${ds[2]} ${ds[3]} ${ds.subarray(4).toString('hex').toUpperCase()}`;
}

/** The DNSKEY record in presentation form, as BIND writes it into the `.key` file. */
export function presentDnskey(zone: string, flags: number, algorithm: number, publicKey: Buffer): string {
  return `${zone}. IN DNSKEY ${flags} ${PROTOCOL} ${algorithm} ${publicKey.toString('base64')}`;
}

function reached(at: number | undefined, now: number): boolean {
  return at !== undefined && at <= now;
}

/** In the DNSKEY RRset at `now` (seconds): published (or no Publish time) and not yet deleted. */
export function isPublished(key: DnssecKey, now: number): boolean {
  return (key.timing.publish === undefined || key.timing.publish <= now) && !reached(key.timing.delete, now);
}

/** Signing at `now`: published, activated (or no Activate time) and not yet inactive. */
export function isSigning(key: DnssecKey, now: number): boolean {
  return isPublished(key, now) && (key.timing.activate === undefined || key.timing.activate <= now) && !reached(key.timing.inactive, now);
}

/** The next timing event after `now` among the keys (seconds), or null: when the key set changes by itself. */
export function nextTimingEvent(keys: readonly DnssecKey[], now: number): number | null {
  let next: number | null = null;
  for (const key of keys) {
    for (const field of ['publish', 'activate', 'inactive', 'delete'] as const) {
      const at = key.timing[field];
      if (at !== undefined && at > now && (next === null || at < next)) next = at;
    }
  }
  return next;
}
