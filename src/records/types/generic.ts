/**
 * Any other type, in RFC 3597's generic form: the key `TYPE<code>` under a name, each record
 * `"\# LENGTH HEX"` (`TYPE65400: "\\# 4 0a000001"` in a double-quoted YAML string). The RDATA is
 * served as written; a code Meridian knows by name, a meta or DNSSEC-generated type, or DNAME
 * (whose rewriting it does not do) is refused.
 */
import { genericRData, RRType } from '../../wire/index.js';
import type { RecordType, YamlValue, ZoneValueReader } from '../record-type.js';

export type GenericTypeName = `TYPE${number}`;

export interface GenericData {
  /** Lower-case hex ("" for empty RDATA). */
  rdata: string;
}

/** `TYPE<code>` with a code from 1 to 65535 and no leading zero. */
const GENERIC_KEY = /^TYPE([1-9]\d{0,4})$/;

/** The type code a `TYPE<code>` key names, or undefined when the key is not of that form. */
export function genericTypeCode(key: string): number | undefined {
  const match = GENERIC_KEY.exec(key);
  const code = match ? Number(match[1]) : NaN;
  return code >= 1 && code <= 0xffff ? code : undefined;
}

/** Why a generic type code cannot be served from a zone file, or undefined when it can. */
export function refusedGenericCode(code: number, knownName: string | undefined): string | undefined {
  if (knownName !== undefined) return `TYPE${code} is ${knownName}: write it as ${knownName}`;
  if (code === RRType.OPT || (code >= 128 && code <= 255)) return `TYPE${code} is a meta type or a question type (RFC 6895 §3.1), never data in a zone`;
  if (code === RRType.RRSIG || code === RRType.NSEC || code === 50) return `TYPE${code} is DNSSEC data a signer makes (RRSIG, NSEC, NSEC3), not zone data`;
  if (code === 39) return 'TYPE39 is DNAME, whose rewriting Meridian does not do: use CNAMEs (a wildcard CNAME covers a subtree)';
  if (code === 0xffff) return 'TYPE65535 is reserved (RFC 6895 §3.1)';
  return undefined;
}

/** `\# LENGTH HEX` (RFC 3597 §5) as lower-case hex, or undefined after a diagnostic. */
function readGeneric(node: YamlValue, zone: ZoneValueReader): GenericData | undefined {
  const text = zone.scalar(node);
  const match = typeof text === 'string' ? /^\\#\s+(\d+)((?:\s+[0-9a-fA-F]+)*)\s*$/.exec(text.trim()) : null;
  if (match === null) {
    zone.report(node, 'bad-value', 'a record of a generic type is "\\# LENGTH HEX" (RFC 3597 §5), e.g. "\\\\# 4 0a000001" in double quotes');
    return undefined;
  }
  const hex = match[2]!.replace(/\s+/g, '');
  const length = Number(match[1]);
  if (hex.length % 2 !== 0 || hex.length / 2 !== length || length > 65535) {
    zone.report(node, 'bad-value', `"\\# ${match[1]}" announces ${length} bytes of RDATA, but ${hex.length / 2} follow`);
    return undefined;
  }
  return { rdata: hex.toLowerCase() };
}

/** The descriptor of one generic type: its code from its name; RDATA served as written, shown in the generic form. */
export function genericRecordType(name: GenericTypeName): RecordType<GenericTypeName, GenericData> {
  return {
    name,
    code: genericTypeCode(name) ?? 0,
    yaml: { read: readGeneric },
    encodeRdata: (data) => Buffer.from(data.rdata, 'hex'),
    anyRank: 100,
    present: (rdata) => genericRData(rdata.bytes(rdata.remaining)),
  };
}
