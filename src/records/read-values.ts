/**
 * records/read-values: value readers the newer record types share (hex and base64 blobs, numbers
 * in a byte, "." as the root name), each reporting its own diagnostic at the node. Compile time only.
 */
import { isScalar } from 'yaml';
import type { YamlValue, ZoneValueReader } from './record-type.js';

/**
 * Hex digits (spaces allowed between them, as zone files split long digests) as lower-case hex,
 * or undefined after a diagnostic. `bytes`: the exact length the field must have, when it has one.
 */
export function readHex(zone: ZoneValueReader, node: YamlValue, what: string, bytes?: number): string | undefined {
  const raw = zone.scalar(node);
  // An all-digit value is read by YAML as a number: take the digits as written.
  const text = typeof raw === 'number' && isScalar(node) && typeof node.source === 'string' ? node.source : raw;
  const hex = typeof text === 'string' ? text.replace(/\s+/g, '') : '';
  if (hex === '' || !/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2 !== 0) {
    zone.report(node, 'bad-value', `${what} must be hexadecimal digits, two per byte`);
    return undefined;
  }
  if (bytes !== undefined && hex.length !== bytes * 2) {
    zone.report(node, 'bad-value', `${what} must be ${bytes} bytes (${bytes * 2} hex digits), not ${hex.length / 2}`);
    return undefined;
  }
  return hex.toLowerCase();
}

/** Standard base64 (RFC 4648 §4, padding included) as its bytes, or undefined after a diagnostic. */
export function readBase64(zone: ZoneValueReader, node: YamlValue, what: string): Buffer | undefined {
  const raw = zone.scalar(node);
  const text = typeof raw === 'string' ? raw.replace(/\s+/g, '') : '';
  if (text === '' || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    zone.report(node, 'bad-value', `${what} must be base64 (RFC 4648: A-Z a-z 0-9 + /, padded with = to a multiple of 4)`);
    return undefined;
  }
  return Buffer.from(text, 'base64');
}

/** A target name where the root "." is allowed (SVCB/HTTPS TargetName, NAPTR replacement): "" for the root. */
export function targetOrRoot(zone: ZoneValueReader, node: YamlValue, what: string): string | undefined {
  return zone.scalar(node) === '.' ? '' : zone.targetName(node, what);
}

/** The fields of a mapping, with a diagnostic for each missing required key; undefined if any is missing. */
export function requiredFields(zone: ZoneValueReader, node: YamlValue, type: string, shape: string, keys: readonly string[], required: readonly string[]) {
  const map = zone.map(node, `a ${type} record (${shape})`);
  if (!map) return undefined;
  const fields = zone.pairs(map, keys, type);
  const missing = required.filter((key) => !fields.has(key));
  if (missing.length > 0) {
    zone.report(map, 'missing-key', `a ${type} record needs ${missing.join(', ')}`);
    return undefined;
  }
  return { map, fields, value: (key: string): YamlValue => zone.valueNode(fields.get(key)) };
}
