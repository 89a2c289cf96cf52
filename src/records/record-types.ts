/**
 * records/record-types: the one table of record types Meridian serves. Adding a type is a file
 * in types/ and a line here; the zone format, the compiler, ANY, the additional section,
 * `explain` and the query metrics all read this table.
 */
import { recordTail, type RDataPresenter } from '../wire/index.js';
import type { AnyRecordType, RecordType } from './record-type.js';
import { A, AAAA } from './types/address.js';
import { CAA } from './types/caa.js';
import { CNAME } from './types/cname.js';
import { DS } from './types/ds.js';
import { genericRecordType, type GenericData, type GenericTypeName } from './types/generic.js';
import { HTTPS } from './types/https.js';
import { MX } from './types/mx.js';
import { NAPTR } from './types/naptr.js';
import { NS } from './types/ns.js';
import { PTR } from './types/ptr.js';
import { SOA } from './types/soa.js';
import { SRV } from './types/srv.js';
import { SSHFP } from './types/sshfp.js';
import { SVCB } from './types/svcb.js';
import { TLSA } from './types/tlsa.js';
import { TXT } from './types/txt.js';

/**
 * In this order the keys are read from a name, and the "did you mean" hint offers them (A before
 * AAAA also puts an in-zone target's IPv4 addresses first in the additional section).
 */
export const RECORD_TYPES = [A, AAAA, NS, CNAME, MX, TXT, SRV, CAA, PTR, DS, TLSA, SSHFP, NAPTR, SVCB, HTTPS, SOA] as const;

type RDataOf<T> = T extends RecordType<infer Name, infer Data> ? { type: Name } & Data : never;
/** The RDATA of any served type, tagged with its type name (`TYPE65400` for a type in RFC 3597's generic form). */
export type RData = RDataOf<(typeof RECORD_TYPES)[number]> | ({ type: GenericTypeName } & GenericData);
export type RecordTypeName = RData['type'];

const byName = new Map<string, AnyRecordType>(RECORD_TYPES.map((type) => [type.name, type as AnyRecordType]));
const byCode = new Map<number, AnyRecordType>(RECORD_TYPES.map((type) => [type.code, type as AnyRecordType]));

/** The descriptor of a type: one of the table, or for `TYPE<code>` one of the generic form's. */
export function recordTypeNamed(name: RecordTypeName): AnyRecordType {
  return byName.get(name) ?? (genericRecordType(name as GenericTypeName) as AnyRecordType);
}

/** The served type with this code, or undefined. */
export function recordTypeOfCode(code: number): AnyRecordType | undefined {
  return byCode.get(code);
}

/** RDATA presentation for the message decoder: each served type by its descriptor (others get RFC 3597's form). */
export const presentRData: RDataPresenter = (code, rdata) => byCode.get(code)?.present(rdata);

/** The types written under a name in a zone file (SOA is the `soa:` block). */
export const ZONE_FILE_RECORD_TYPES: readonly AnyRecordType[] = RECORD_TYPES.filter((type) => type.yaml !== null);

/** Type codes in the order ANY prefers them (RFC 8482 §4.1 answers with one RRset). */
export const TYPE_CODES_FOR_ANY: readonly number[] = [...RECORD_TYPES].sort((a, b) => a.anyRank - b.anyRank).map((type) => type.code);

/**
 * TYPE, CLASS (IN), TTL, RDLENGTH and RDATA: everything of a record but its owner, which is
 * prefixed when the answer is assembled.
 */
export function encodeRecordTail(rdata: RData, ttl: number): Buffer {
  const type = recordTypeNamed(rdata.type);
  return recordTail(type.code, ttl, type.encodeRdata(rdata));
}
