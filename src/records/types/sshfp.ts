/**
 * SSHFP (RFC 4255 §3): `{ algorithm, fingerprint_type, fingerprint }`, a host key's fingerprint
 * for SSH clients. The fingerprint is hex: SHA-1 (type 1) 20 bytes, SHA-256 (type 2, RFC 6594) 32.
 */
import { RRType } from '../../wire/index.js';
import { readHex, requiredFields } from '../read-values.js';
import type { RecordType } from '../record-type.js';

export interface SshfpData {
  algorithm: number;
  fingerprintType: number;
  /** Lower-case hex. */
  fingerprint: string;
}

const FINGERPRINT_BYTES: Record<number, number> = { 1: 20, 2: 32 };
const KEYS = ['algorithm', 'fingerprint_type', 'fingerprint'];

export const SSHFP: RecordType<'SSHFP', SshfpData> = {
  name: 'SSHFP',
  code: RRType.SSHFP,
  yaml: {
    read(node, zone) {
      const record = requiredFields(zone, node, 'SSHFP', '{ algorithm, fingerprint_type, fingerprint }', KEYS, KEYS);
      if (!record) return undefined;
      const algorithm = zone.integer(record.value('algorithm'), 'algorithm', 0, 255);
      const fingerprintType = zone.integer(record.value('fingerprint_type'), 'fingerprint_type', 0, 255);
      if (algorithm === undefined || fingerprintType === undefined) return undefined;
      const fingerprint = readHex(zone, record.value('fingerprint'), `a fingerprint of type ${fingerprintType}`, FINGERPRINT_BYTES[fingerprintType]);
      return fingerprint === undefined ? undefined : { algorithm, fingerprintType, fingerprint };
    },
  },
  encodeRdata: (data) => Buffer.concat([Buffer.from([data.algorithm, data.fingerprintType]), Buffer.from(data.fingerprint, 'hex')]),
  anyRank: 13,
  present: (rdata) => `${rdata.u8()} ${rdata.u8()} ${rdata.bytes(rdata.remaining).toString('hex').toUpperCase()}`,
};
