/**
 * TLSA (RFC 6698 §2): `{ usage, selector, matching_type, data }` at `_PORT._PROTO.host`, the
 * certificate or key a TLS server presents (DANE). `data` is hex: a SHA-256 hash (matching type 1)
 * is 32 bytes, SHA-512 (2) 64 bytes, the full value (0) any length.
 */
import { RRType } from '../../wire/index.js';
import { readHex, requiredFields } from '../read-values.js';
import type { RecordType } from '../record-type.js';

export interface TlsaData {
  usage: number;
  selector: number;
  matchingType: number;
  /** Lower-case hex. */
  data: string;
}

const HASH_BYTES: Record<number, number> = { 1: 32, 2: 64 };
const KEYS = ['usage', 'selector', 'matching_type', 'data'];

export const TLSA: RecordType<'TLSA', TlsaData> = {
  name: 'TLSA',
  code: RRType.TLSA,
  yaml: {
    read(node, zone) {
      const record = requiredFields(zone, node, 'TLSA', '{ usage, selector, matching_type, data }', KEYS, KEYS);
      if (!record) return undefined;
      const usage = zone.integer(record.value('usage'), 'usage', 0, 255);
      const selector = zone.integer(record.value('selector'), 'selector', 0, 255);
      const matchingType = zone.integer(record.value('matching_type'), 'matching_type', 0, 255);
      if (usage === undefined || selector === undefined || matchingType === undefined) return undefined;
      const data = readHex(zone, record.value('data'), `data of matching type ${matchingType}`, HASH_BYTES[matchingType]);
      return data === undefined ? undefined : { usage, selector, matchingType, data };
    },
  },
  encodeRdata: (data) => Buffer.concat([Buffer.from([data.usage, data.selector, data.matchingType]), Buffer.from(data.data, 'hex')]),
  anyRank: 12,
  present: (rdata) => `${rdata.u8()} ${rdata.u8()} ${rdata.u8()} ${rdata.bytes(rdata.remaining).toString('hex').toUpperCase()}`,
};
