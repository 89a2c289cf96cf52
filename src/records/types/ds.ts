/**
 * DS (RFC 4034 §5): `{ key_tag, algorithm, digest_type, digest }` at a delegation, beside its NS
 * records: the parent side of a signed child's chain of trust, answered by this zone (RFC 4035
 * §3.1.4.1). The digest is hex, of the length its type gives (SHA-1 20 bytes, SHA-256 32, SHA-384 48).
 */
import { RRType } from '../../wire/index.js';
import { readHex, requiredFields } from '../read-values.js';
import type { RecordType } from '../record-type.js';

export interface DsData {
  keyTag: number;
  algorithm: number;
  digestType: number;
  /** Lower-case hex. */
  digest: string;
}

/** Digest lengths by digest type (IANA "DS RR Type Digest Algorithms"): 1 SHA-1, 2 SHA-256, 3 GOST R 34.11-94, 4 SHA-384. */
const DIGEST_BYTES: Record<number, number> = { 1: 20, 2: 32, 3: 32, 4: 48 };
const KEYS = ['key_tag', 'algorithm', 'digest_type', 'digest'];

export const DS: RecordType<'DS', DsData> = {
  name: 'DS',
  code: RRType.DS,
  yaml: {
    read(node, zone) {
      const record = requiredFields(zone, node, 'DS', '{ key_tag, algorithm, digest_type, digest }', KEYS, KEYS);
      if (!record) return undefined;
      const keyTag = zone.integer(record.value('key_tag'), 'key_tag', 0, 65535);
      const algorithm = zone.integer(record.value('algorithm'), 'algorithm', 1, 255);
      const digestType = zone.integer(record.value('digest_type'), 'digest_type', 1, 255);
      if (keyTag === undefined || algorithm === undefined || digestType === undefined) return undefined;
      const digest = readHex(zone, record.value('digest'), `a digest of type ${digestType}`, DIGEST_BYTES[digestType]);
      return digest === undefined ? undefined : { keyTag, algorithm, digestType, digest };
    },
  },
  encodeRdata(data) {
    const head = Buffer.from([data.keyTag >> 8, data.keyTag & 0xff, data.algorithm, data.digestType]);
    return Buffer.concat([head, Buffer.from(data.digest, 'hex')]);
  },
  anyRank: 11,
  present: (rdata) => `${rdata.u16()} ${rdata.u8()} ${rdata.u8()} ${rdata.bytes(rdata.remaining).toString('hex').toUpperCase()}`,
};
